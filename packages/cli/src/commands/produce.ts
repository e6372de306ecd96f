import type { Command } from 'commander';
import { UsageError } from '@cdc/core';
import {
  DEFAULT_BATCH_SIZE,
  DEFAULT_GENERATOR,
  DEFAULT_OPS_PORT,
  DEFAULT_PRODUCERS,
  DEFAULT_RATE_PER_SEC,
  formatSummary,
  listScenarios,
  parseProduceArgs,
  runProducer,
  type ProduceArgs,
} from '@cdc/producer';
import { commandContext } from '../context';
import { EXIT_FAILURE, run } from '../run';

interface ProduceOptions extends ProduceArgs {
  listScenarios?: boolean;
  progress: boolean;
  json?: boolean;
}

export function registerProduceCommand(program: Command): void {
  program
    .command('produce')
    .description(
      'write booking changes to the bronze topic (Avro, keyed by booking_id, idempotent, acks=all): ' +
        'realistic generated changes at a chosen rate, or a named scenario; Ctrl-C stops cleanly',
    )
    .allowExcessArguments(false)
    .option(
      '-r, --rate <n>',
      `events per second, or 'max' (default: max with --count, else ${DEFAULT_RATE_PER_SEC})`,
    )
    .option('-n, --count <n>', 'stop after n events (default: run until Ctrl-C)')
    .option('-d, --duration <time>', 'stop after a time such as 500ms, 30s, 5m or 1h')
    .option(
      '--seed <n>',
      'random seed: the same seed gives the same changes (default: random, shown at the end)',
    )
    .option('--movies <n>', `number of movies M001... (default ${DEFAULT_GENERATOR.movies})`)
    .option('--customers <n>', `number of customers C0001... (default ${DEFAULT_GENERATOR.customers})`)
    .option(
      '--mix <ops>',
      'operation mix in percent, summing to 100 (default create=60,cancel=15,update=20,delete=5)',
    )
    .option(
      '--dirty-ratio <r>',
      `share 0..1 of created or updated bookings given one defect (default ${DEFAULT_GENERATOR.dirtyRatio})`,
    )
    .option('--time-zone <tz>', 'IANA time zone of the daily booking-hour curve (default UTC)')
    .option('--booking-days <n>', 'booking dates within the last n days (default 7)')
    .option('--booking-from <date>', 'earliest booking date (ISO), instead of --booking-days')
    .option('--booking-to <date>', 'latest booking date (ISO; never later than the change itself)')
    .option(
      '-s, --scenario <name>',
      'produce a named scenario (or a .json file) instead of generated changes',
    )
    .option('--list-scenarios', 'list the named scenarios and exit')
    .option('--batch-size <n>', `most events per produce request (default ${DEFAULT_BATCH_SIZE})`)
    .option(
      '--producers <n>',
      `idempotent producers sending in parallel, each owning a share of the partitions (default ${DEFAULT_PRODUCERS})`,
    )
    .option(
      '--ops-port <port>',
      `port of /healthz and /metrics, 0 = random (default ${DEFAULT_OPS_PORT} when running until stopped)`,
    )
    .option(
      '--time-scale <k>',
      'event time runs k times faster than the clock, from now (--rate and --duration are then in event time): ' +
        'ten minutes of traffic in 30 s with --time-scale 20, for demos and tests',
    )
    .option('--no-progress', 'no progress bar or progress log lines')
    .option('--json', 'print the summary as JSON')
    .action((opts: ProduceOptions) =>
      run(async () => {
        const { listScenarios: list, progress, json, ...args } = opts;
        if (list) {
          const other = Object.keys(args);
          if (other.length > 0)
            throw new UsageError(`--list-scenarios cannot be combined with --${kebab(other[0]!)}`);
          for (const s of listScenarios()) process.stdout.write(`${s.name.padEnd(18)} ${s.description}\n`);
          return;
        }
        const config = parseProduceArgs(args);
        const ctx = commandContext('producer');
        const stop = new AbortController();
        let signals = 0;
        const onSignal = (signal: NodeJS.Signals): void => {
          signals++;
          if (signals === 1) {
            process.stderr.write(`\n${signal}: stopping; waiting for in-flight events to be acknowledged\n`);
            stop.abort();
          } else {
            process.stderr.write(`${signal} again: exiting now; events still in flight are not counted\n`);
            process.exit(130);
          }
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
        try {
          const summary = await runProducer(config, {
            connection: ctx.connection,
            logger: ctx.logger,
            signal: stop.signal,
            progress: progress ? 'auto' : 'none',
          });
          process.stdout.write(json ? `${JSON.stringify(summary)}\n` : formatSummary(summary));
          if (summary.status === 'failed') process.exitCode = EXIT_FAILURE;
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
      }),
    );
}

const kebab = (camel: string): string => camel.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
