import { InvalidArgumentError, type Command } from 'commander';
import { checkDuration, describeLoss, formatRetention, UNLIMITED_RETENTION_MS } from '@cdc/core';
import { commandContext } from '../context';
import { intOption, run } from '../run';
import { createTopics, registerSchemas, type CreatedTopics } from '../setup';

/** '--retention unlimited' (or -1), or a duration: 90d, 12h, 1.5h, 30m, 45s, 500ms. */
export function parseRetention(value: string): number {
  const v = value.trim();
  if (v === 'unlimited' || v === '-1') return UNLIMITED_RETENTION_MS;
  const ms = checkDuration(v, { minMs: 1 });
  if (typeof ms === 'string') {
    throw new InvalidArgumentError(
      `--retention must be 'unlimited' or a duration such as 30d, 12h or 1.5h, got '${value}'`,
    );
  }
  return ms;
}

/** Prints what `createTopics` did, and warns about history that rebuilds and backfills cannot replay. */
export function reportTopics(r: CreatedTopics, historyRetentionMs: number | undefined): void {
  process.stdout.write(r.created.length ? `created ${r.created.join(', ')}\n` : 'all topics exist\n');
  if (historyRetentionMs !== undefined && historyRetentionMs !== UNLIMITED_RETENTION_MS && r.created.length) {
    process.stderr.write(
      `warning: bronze and silver created with retention ${formatRetention(historyRetentionMs)}: ` +
        'rebuilds (`cdc aggregate --rebuild`) and backfills (`cdc backfill`) then cover only the retained window\n',
    );
  }
  for (const t of r.losingHistory) {
    process.stderr.write(
      `warning: ${describeLoss(t)}: rebuilds and backfills cover only that window (left unchanged; ` +
        `to keep history: kafka-configs.sh --alter --entity-type topics --entity-name ${t.topic} ` +
        '--add-config retention.ms=-1,retention.bytes=-1)\n',
    );
  }
}

export function registerTopicCommands(program: Command): void {
  program
    .command('topics')
    .description("the contract's topics")
    .command('create')
    .description(
      'create the bronze, silver, dead-letter, (compacted) gold and control topics if missing; register the schemas (as `cdc schemas register`). ' +
        'Bronze and silver keep their history (retention.ms=-1); existing topics are not changed, ' +
        'but those that lose history are reported',
    )
    .option('-p, --partitions <n>', 'partitions per topic', intOption('--partitions', 1, 1000), 3)
    .option(
      '--retention <time>',
      "retention of bronze and silver when created: 'unlimited' (default) or a duration such as 30d; " +
        'rebuilds and backfills then cover only the retained window',
      parseRetention,
    )
    .action((opts: { partitions: number; retention?: number }) =>
      run(async () => {
        const ctx = commandContext('topics');
        const result = await createTopics(ctx.connection, ctx.logger, opts.partitions, {
          historyRetentionMs: opts.retention,
        });
        const ids = await registerSchemas(ctx.connection);
        reportTopics(result, opts.retention);
        for (const [subject, id] of Object.entries(ids)) process.stdout.write(`schema ${subject} id ${id}\n`);
      }),
    );
}
