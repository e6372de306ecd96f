import type { Command } from 'commander';
import { loadAggregatorConfig, rebuildDatabase, startAggregator } from '@cdc/aggregator';
import { UsageError, type Env } from '@cdc/core';
import { commandContext } from '../context';
import { runUntilStopped } from '../lifecycle';
import { rebuildProgressReporter } from '../rebuild-progress';
import { intOption, run } from '../run';

interface AggregateOptions {
  db?: string;
  opsPort?: number;
  group?: string;
  instanceId?: string;
  gold: boolean;
  rebuild?: boolean;
  allowPartial?: boolean;
}

export function registerAggregateCommand(program: Command): void {
  program
    .command('aggregate')
    .description(
      'consume silver into per-movie KPIs in SQLite and publish gold snapshots; runs until SIGINT/SIGTERM',
    )
    .option('--db <path>', 'SQLite database (env AGGREGATOR_DB_PATH, default data/aggregator.db)')
    .option(
      '--ops-port <n>',
      '/healthz and /metrics port, 0 = random (env AGGREGATOR_OPS_PORT, default 9472)',
      intOption('--ops-port', 0, 65535),
    )
    .option('--group <id>', 'consumer group (env AGGREGATOR_GROUP_ID, default <TOPIC_PREFIX>cdc-aggregator)')
    .option(
      '--instance-id <id>',
      'stable id of this instance in its group (env AGGREGATOR_INSTANCE_ID, default derived from the database path)',
    )
    .option('--no-gold', 'do not publish MovieKpis snapshots to the gold topic')
    .option(
      '--rebuild',
      'rebuild the database from silver (earliest offset to the current end), swap it in atomically, and exit; ' +
        'refused when silver has lost history (its earliest offset is not 0) unless --allow-partial',
    )
    .option(
      '--allow-partial',
      'with --rebuild: rebuild from what silver still holds even if its head was deleted',
    )
    .action((opts: AggregateOptions) =>
      run(async () => {
        const ctx = commandContext('aggregator');
        const env: Env = {
          ...process.env,
          KAFKA_BROKERS: ctx.connection.brokers.join(','),
          SCHEMA_REGISTRY_URL: ctx.connection.registryUrl,
        };
        if (opts.db !== undefined) env.AGGREGATOR_DB_PATH = opts.db;
        if (opts.opsPort !== undefined) env.AGGREGATOR_OPS_PORT = String(opts.opsPort);
        if (opts.group !== undefined) env.AGGREGATOR_GROUP_ID = opts.group;
        if (opts.instanceId !== undefined) env.AGGREGATOR_INSTANCE_ID = opts.instanceId;
        if (!opts.gold) env.AGGREGATOR_PUBLISH_GOLD = 'false';
        const config = loadAggregatorConfig(env);
        if (opts.allowPartial && !opts.rebuild) throw new UsageError('--allow-partial goes with --rebuild');

        if (opts.rebuild) {
          const progress = rebuildProgressReporter(ctx.logger);
          try {
            const r = await rebuildDatabase(config, ctx.logger, {
              onProgress: (p) => progress.update(p),
              allowPartial: opts.allowPartial === true,
            });
            progress.stop();
            if (r.offsetsGone > 0) {
              process.stdout.write(
                `partial rebuild: the first ${r.offsetsGone} offsets of ${config.topics.silver} were gone\n`,
              );
            }
            process.stdout.write(
              `rebuilt ${config.dbPath} from ${config.topics.silver}: ${r.changes} changes ` +
                `(${r.applied} applied, of which ${r.rederived} re-derived, ${r.skipped} skipped, ` +
                `${r.undecodable} undecodable), ` +
                `${r.bookings} bookings, ${r.movies} movies in ${(r.totalMs / 1000).toFixed(1)} s ` +
                `(${Math.round(r.changesPerSecond)} changes/s)\n`,
            );
          } finally {
            progress.stop();
          }
          return;
        }

        await runUntilStopped(ctx, async (signal) => {
          const aggregator = await startAggregator(config, ctx.logger, { signal });
          return {
            close: () => aggregator.stop(),
            unfinishedWork: () => aggregator.unfinishedWork(),
            stopped: aggregator.done.then(
              () => null,
              (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
            ),
          };
        });
      }),
    );
}
