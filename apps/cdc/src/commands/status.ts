import type { Command } from 'commander';
import { aggregatorSchema } from '@cdc/aggregator';
import { parseEnv } from '@cdc/core';
import { enricherSchema } from '@cdc/enricher';
import { DeadLetterCounter } from '@cdc/observe';
import { collectStatus } from '../status/collect';
import { formatStatus } from '../status/format';
import type { StatusReport } from '../status/report';
import { commandContext } from '../context';
import { durationOption, EXIT_FAILURE, run } from '../run';

interface StatusOptions {
  json?: boolean;
  watch?: boolean;
  /** Milliseconds (a duration option). */
  interval: number;
  db?: string;
  /** Milliseconds (a duration option). */
  maxLag: number;
}

/** The services' settings `cdc status` reads: where their database and consumer groups are. */
export const statusSchema = aggregatorSchema
  .pick({ AGGREGATOR_DB_PATH: true, AGGREGATOR_GROUP_ID: true })
  .merge(enricherSchema.pick({ ENRICHER_GROUP_ID: true }));

/** `cdc status`: one screen, like SHOW TASKS plus the refresh history. Exit 0 healthy, 1 degraded. */
export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description(
      'say where the pipeline stands: broker and registry, topics, consumer groups (members, lag, last commit), ' +
        "the aggregator's last batches, dead letters, freshness of gold, a backfill running. Exit 0 healthy, 1 degraded (with the reason)",
    )
    .option('--json', 'print the report as JSON (its JSON Schema: STATUS_JSON_SCHEMA in the CLI package)')
    .option('-w, --watch', 'refresh in place until Ctrl-C')
    .option(
      '--interval <time>',
      'time between refreshes with --watch, such as 500ms or 5s (a bare number is seconds)',
      durationOption('--interval', { minMs: 100, maxMs: 3_600_000, bareUnit: 's' }),
      2000,
    )
    .option('--db <path>', 'the aggregator database (env AGGREGATOR_DB_PATH, default data/aggregator.db)')
    .option(
      '--max-lag <time>',
      'degraded when a record has waited longer than this for a stage, such as 90s or 5m (a bare number is seconds; event times are shown, not judged)',
      durationOption('--max-lag', { minMs: 1000, maxMs: 365 * 86_400_000, bareUnit: 's' }),
      300_000,
    )
    .action((opts: StatusOptions) =>
      run(async () => {
        const ctx = commandContext('status');
        const env = parseEnv(statusSchema, process.env);
        const prefix = ctx.connection.topicPrefix;
        const earliestCache = new Map<string, number | null>();
        const deadLetters = new DeadLetterCounter();
        const once = (): Promise<StatusReport> =>
          collectStatus({
            connection: ctx.connection,
            logger: ctx.logger,
            dbPath: opts.db ?? env.AGGREGATOR_DB_PATH,
            enricherGroupId: env.ENRICHER_GROUP_ID ?? `${prefix}cdc-enricher`,
            aggregatorGroupId: env.AGGREGATOR_GROUP_ID ?? `${prefix}cdc-aggregator`,
            localKafkaVersion: ctx.stack.external ? null : ctx.stack.kafkaVersion,
            limits: { maxWaitMs: opts.maxLag },
            earliestCache,
            deadLetters,
          });
        const show = (r: StatusReport): void => {
          process.stdout.write(opts.json ? `${JSON.stringify(r, null, 2)}\n` : formatStatus(r));
        };
        if (!opts.watch) {
          const r = await once();
          show(r);
          process.exitCode = r.healthy ? 0 : EXIT_FAILURE;
          return;
        }
        let stop = false;
        process.once('SIGINT', () => (stop = true));
        process.once('SIGTERM', () => (stop = true));
        for (;;) {
          const r = await once();
          if (!opts.json && process.stdout.isTTY) process.stdout.write('\x1b[H\x1b[2J'); // in place
          show(r);
          process.exitCode = r.healthy ? 0 : EXIT_FAILURE;
          for (let waited = 0; waited < opts.interval && !stop; waited += 100) {
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
          if (stop) return;
        }
      }),
    );
}
