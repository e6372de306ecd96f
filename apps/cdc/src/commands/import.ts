import type { Command } from 'commander';
import {
  DEFAULT_BATCH_SIZE,
  DEFAULT_PRODUCERS,
  formatImportSummary,
  IMPORT_FIELDS,
  parseColumnMap,
  runImport,
} from '@cdc/producer';
import { commandContext } from '../context';
import { EXIT_FAILURE, intOption, run } from '../run';

/** Exit code of an import stopped by Ctrl-C or SIGTERM (the same command continues it). */
export const EXIT_INTERRUPTED = 130;

interface ImportOptions {
  map: string[];
  timeZone: string;
  format?: string;
  dryRun?: boolean;
  rejects?: string;
  batchSize: number;
  producers: number;
  progress: boolean;
  json?: boolean;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function registerImportCommand(program: Command): void {
  program
    .command('import')
    .argument('<file>', "a CSV file with a header, or JSON Lines (.jsonl); '-' reads CSV from stdin")
    .description(
      'load existing bookings (e.g. an export of raw_movie_bookings) into bronze as snapshot reads (op r), ' +
        'continuing the versions bronze holds: new bookings are snapshot reads, changed ones updates, identical ones ' +
        'skipped, so importing a file twice changes nothing. Lines that cannot be parsed are listed in a rejects file ' +
        'next to the input and not sent. Ctrl-C or a crash: the same command continues where it was',
    )
    .allowExcessArguments(false)
    .option(
      '--map <column=field>',
      `take a field from a column of another name (repeatable or comma-separated); fields: ${IMPORT_FIELDS.join(', ')}`,
      collect,
      [],
    )
    .option(
      '--time-zone <zone>',
      'IANA zone of timestamps written without one, such as 2025-09-03 10:00:00',
      'UTC',
    )
    .option('--format <csv|jsonl>', 'the input format (default: from the file name; stdin is CSV)')
    .option(
      '--dry-run',
      'read the input and bronze and print the plan: counts, rejects, ids bronze already holds; send nothing',
    )
    .option(
      '--rejects <path>',
      'where to list rejected lines (default: <input>.rejects.csv next to the input)',
    )
    .option(
      '--batch-size <n>',
      `most records per produce request (default ${DEFAULT_BATCH_SIZE})`,
      intOption('--batch-size', 1, 100_000),
      DEFAULT_BATCH_SIZE,
    )
    .option(
      '--producers <n>',
      `idempotent producers sending in parallel (default ${DEFAULT_PRODUCERS})`,
      intOption('--producers', 1, 16),
      DEFAULT_PRODUCERS,
    )
    .option('--no-progress', 'no progress bar or progress log lines')
    .option('--json', 'print the summary as JSON')
    .addHelpText(
      'after',
      '\nTimestamps: ISO 8601 (2025-09-03T10:00:00Z) or 2025-09-03 10:00:00 (in --time-zone). Prices: decimals such as\n' +
        '15.00, converted to exact cents (15.005 is rejected, not rounded). Empty, NULL or \\N is null.\n' +
        'Exit codes: 0 imported (or planned) with no rejects, 1 some lines rejected or the import failed,\n' +
        '2 bad input or options (nothing sent), 130 interrupted (run the same command again to continue).\n',
    )
    .action((file: string, opts: ImportOptions) =>
      run(async () => {
        const map = parseColumnMap(opts.map);
        const ctx = commandContext('import');
        const stop = new AbortController();
        const onSignal = (signal: NodeJS.Signals): void => {
          process.stderr.write(`\n${signal}: stopping; waiting for records in flight to be acknowledged\n`);
          process.once(signal, () => process.exit(EXIT_INTERRUPTED)); // a second one: now
          stop.abort();
        };
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        try {
          const summary = await runImport(
            {
              input: file,
              format: opts.format,
              map,
              timeZone: opts.timeZone,
              dryRun: opts.dryRun === true,
              batchSize: opts.batchSize,
              producers: opts.producers,
              rejectsFile: opts.rejects,
            },
            {
              connection: ctx.connection,
              logger: ctx.logger,
              signal: stop.signal,
              progress: opts.progress ? 'auto' : 'none',
            },
          );
          process.stdout.write(opts.json ? `${JSON.stringify(summary)}\n` : formatImportSummary(summary));
          if (summary.status === 'stopped') process.exitCode = EXIT_INTERRUPTED;
          else if (summary.status === 'failed' || summary.counts.rejected > 0)
            process.exitCode = EXIT_FAILURE;
        } finally {
          process.removeListener('SIGINT', onSignal);
          process.removeListener('SIGTERM', onSignal);
        }
      }),
    );
}
