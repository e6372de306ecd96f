import type { Command } from 'commander';
import { DeadLetterCounter } from '@cdc/observe';
import { collectStatus } from '../status/collect';
import { formatStatus } from '../status/format';
import type { StatusReport } from '../status/report';
import { commandContext } from '../context';
import { EXIT_FAILURE, intOption, run } from '../run';

interface StatusOptions {
  json?: boolean;
  watch?: boolean;
  interval: number;
  db?: string;
  maxLag: number;
}

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
    .option('--interval <s>', 'seconds between refreshes with --watch', intOption('--interval', 1, 3600), 2)
    .option('--db <path>', 'the aggregator database (env AGGREGATOR_DB_PATH, default data/aggregator.db)')
    .option(
      '--max-lag <s>',
      'degraded when gold is further than this behind the newest event (seconds)',
      intOption('--max-lag', 1, 86_400 * 365),
      300,
    )
    .action((opts: StatusOptions) =>
      run(async () => {
        const ctx = commandContext('status');
        const prefix = ctx.connection.topicPrefix;
        const earliestCache = new Map<string, number | null>();
        const deadLetters = new DeadLetterCounter();
        const once = (): Promise<StatusReport> =>
          collectStatus({
            connection: ctx.connection,
            logger: ctx.logger,
            dbPath: opts.db ?? process.env.AGGREGATOR_DB_PATH ?? 'data/aggregator.db',
            enricherGroupId: process.env.ENRICHER_GROUP_ID ?? `${prefix}cdc-enricher`,
            aggregatorGroupId: process.env.AGGREGATOR_GROUP_ID ?? `${prefix}cdc-aggregator`,
            localKafkaVersion: ctx.stack.external ? null : ctx.stack.kafkaVersion,
            limits: { maxFreshnessLagMs: opts.maxLag * 1000 },
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
          for (let waited = 0; waited < opts.interval * 1000 && !stop; waited += 100) {
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
          if (stop) return;
        }
      }),
    );
}
