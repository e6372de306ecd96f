import type { Command } from 'commander';
import { DEFAULT_GENERATOR } from '@cdc/bookings';
import { AbortedError, UsageError } from '@cdc/core';
import { Shutdown } from '@cdc/observe';
import {
  DEFAULT_BATCH_SIZE,
  DEFAULT_OPS_PORT,
  DEFAULT_PRODUCERS,
  ONE_PRODUCER_MAX_RATE,
  DEFAULT_RATE_PER_SEC,
  DEFAULT_MAX_TRANSACTION_CHANGES,
  formatSqlSummary,
  formatSummary,
  listScenarios,
  parseProduceArgs,
  parseSqlProduceArgs,
  runProducer,
  runToPostgres,
  type ProduceArgs,
} from '@cdc/producer';
import { sourceStackConfig } from '@cdc/stack';
import { commandContext } from '../context';
import { exitSoon } from '../lifecycle';
import { EXIT_FAILURE, run } from '../run';

interface ProduceOptions extends ProduceArgs {
  to: string;
  maxTransaction?: string;
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
      '--to <target>',
      "'kafka' (the bronze topic, default) or 'postgres': the same changes as SQL INSERT/UPDATE/DELETE on " +
        "raw_movie_bookings (DATABASE_URL or the PG* variables; default the local stack's database), captured by Debezium",
      'kafka',
    )
    .option(
      '--max-transaction <n>',
      `with --to postgres: each transaction holds 1 to n consecutive changes, drawn from the seed (default ${DEFAULT_MAX_TRANSACTION_CHANGES})`,
    )
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
      `idempotent producers sending in parallel, each owning a share of the partitions (default ${DEFAULT_PRODUCERS}; 1 with a --rate up to ${ONE_PRODUCER_MAX_RATE})`,
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
    .option(
      '--max-outage <time>',
      'end the run (exit 1, with what was acknowledged) when the broker or registry stays unreachable this long ' +
        '(default 30s with --count, --duration or --scenario; a run until Ctrl-C waits as long as it takes)',
    )
    .option('--no-progress', 'no progress bar or progress log lines')
    .option('--json', 'print the summary as JSON')
    .action((opts: ProduceOptions) =>
      run(async () => {
        const { listScenarios: list, progress, json, to, maxTransaction, ...args } = opts;
        if (to !== 'kafka' && to !== 'postgres')
          throw new UsageError(`--to ${to}: the targets are 'kafka' and 'postgres'`);
        if (list) {
          const other = Object.keys(args);
          if (other.length > 0)
            throw new UsageError(`--list-scenarios cannot be combined with --${kebab(other[0]!)}`);
          for (const s of listScenarios()) process.stdout.write(`${s.name.padEnd(18)} ${s.description}\n`);
          return;
        }
        if (to === 'postgres') return produceToPostgres({ ...args, maxTransaction }, progress, json);
        if (maxTransaction !== undefined) throw new UsageError('--max-transaction needs --to postgres');
        const config = parseProduceArgs(args);
        const ctx = commandContext('producer');
        // The shared shutdown (observe's Shutdown): the first signal stops generating and waits for
        // the events in flight up to SHUTDOWN_TIMEOUT_MS; a second one exits at once.
        const shutdown = new Shutdown({ timeoutMs: ctx.shutdownTimeoutMs, logger: ctx.logger });
        let probe: () => { inFlight: number } = () => ({ inFlight: 0 });
        const inFlightWork = (): string[] => {
          const n = probe().inFlight;
          return n > 0 ? [`${n} events sent and not acknowledged (they may or may not be written)`] : [];
        };
        shutdown.setTarget({ close: () => Promise.resolve(), unfinishedWork: inFlightWork });
        const running = runProducer(config, {
          connection: ctx.connection,
          logger: ctx.logger,
          signal: shutdown.signal,
          progress: progress ? 'auto' : 'none',
          // What is still unacknowledged a little before the deadline is reported as unanswered.
          drainTimeoutMs: Math.max(200, ctx.shutdownTimeoutMs - 1500),
          expose: (p) => (probe = p),
        });
        void shutdown.requested.then(async () => {
          const outcome = await shutdown.stop({
            close: () =>
              running.then(
                () => undefined,
                () => undefined,
              ),
            unfinishedWork: inFlightWork,
          });
          // Not done by the deadline (a broker that does not answer): exit now, saying so above.
          if (outcome.timedOut) process.exit(outcome.code);
        });
        let summary;
        try {
          summary = await running;
        } catch (err) {
          shutdown.dispose();
          exitSoon();
          if (err instanceof AbortedError) {
            process.stderr.write('stopped before anything was produced\n');
            return;
          }
          throw err;
        }
        shutdown.dispose();
        exitSoon();
        process.stdout.write(json ? `${JSON.stringify(summary)}\n` : formatSummary(summary));
        // Failed or unanswered sends: work abandoned, never reported as sent.
        if (summary.status === 'failed' || summary.failed > 0 || summary.unanswered > 0)
          process.exitCode = EXIT_FAILURE;
      }),
    );
}

/** `--to postgres`: the changes as SQL on the source table; Ctrl-C ends after the transaction in progress. */
async function produceToPostgres(
  args: ProduceArgs & { maxTransaction?: string },
  progress: boolean,
  json: boolean | undefined,
): Promise<void> {
  const config = parseSqlProduceArgs(args);
  const ctx = commandContext('producer');
  const shutdown = new Shutdown({ timeoutMs: ctx.shutdownTimeoutMs, logger: ctx.logger });
  const databaseUrl = sourceStackConfig().databaseUrl;
  const running = runToPostgres(config, {
    target: { connectionString: databaseUrl || undefined },
    logger: ctx.logger,
    signal: shutdown.signal,
    progress: progress ? 'auto' : 'none',
  });
  shutdown.setTarget({
    close: () =>
      running.then(
        () => undefined,
        () => undefined,
      ),
    unfinishedWork: () => [],
  });
  void shutdown.requested.then(async () => {
    const outcome = await shutdown.stop({
      close: () =>
        running.then(
          () => undefined,
          () => undefined,
        ),
      unfinishedWork: () => ['the transaction in progress (it may or may not be committed)'],
    });
    if (outcome.timedOut) process.exit(outcome.code);
  });
  let summary;
  try {
    summary = await running;
  } finally {
    shutdown.dispose();
    exitSoon();
  }
  process.stdout.write(json ? `${JSON.stringify(summary)}\n` : formatSqlSummary(summary));
  // Refused changes are not written: the run did not do all it was asked.
  if (summary.status === 'failed' || summary.refused > 0) process.exitCode = EXIT_FAILURE;
}

const kebab = (camel: string): string => camel.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
