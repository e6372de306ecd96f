import type { Command } from 'commander';
import {
  checkPlan,
  createSource,
  deleteSource,
  describeTarget,
  pauseSource,
  planSource,
  sourceStatus,
  type SourcePlan,
  type SourceSettings,
  type SourceStatus,
} from '@cdc/capture';
import { sourceStackConfig } from '@cdc/stack';
import { commandContext, type CommandContext } from '../context';
import { intOption, run } from '../run';

function settings(ctx: CommandContext, snapshot?: string): SourceSettings {
  const s = sourceStackConfig();
  return {
    connection: ctx.connection,
    databaseUrl: s.databaseUrl || undefined,
    connectDatabaseUrl: s.connectDatabaseUrl,
    connectUrl: s.connectUrl,
    ...(snapshot === 'never' ? { snapshotMode: 'no_data' as const } : {}),
  };
}

function printPlan(p: SourcePlan, verb: string): void {
  process.stdout.write(
    [
      `${verb}:`,
      `  database      ${describeTarget(p.database)}`,
      ...(describeTarget(p.connectorDatabase) === describeTarget(p.database)
        ? []
        : [`  from Connect  ${describeTarget(p.connectorDatabase)} (CONNECT_DATABASE_URL)`]),
      `  table         ${p.table}`,
      `  connector     ${p.connector} (Debezium PostgreSQL, pgoutput)`,
      `  slot          ${p.slot}`,
      `  publication   ${p.publication}`,
      `  topic         ${p.sourceTopic} (read by \`cdc capture\` into bronze)`,
      `  snapshot      ${p.snapshotMode === 'initial' ? 'existing rows first (op r), then every change' : 'none: changes from now on'}`,
      '',
    ].join('\n'),
  );
}

function formatSnapshot(s: SourceStatus['snapshot']): string {
  if (s === null) return 'not started';
  if (s.state === 'done') return 'done (streaming changes)';
  const read = s.recordsOnTopic === null ? '?' : String(s.recordsOnTopic);
  const pct =
    s.recordsOnTopic !== null && s.tableRows
      ? ` (${Math.min(100, (100 * s.recordsOnTopic) / s.tableRows).toFixed(1)}%)`
      : '';
  return `running: ${read} rows read of ${s.tableRows ?? '?'} in the table${pct}`;
}

/** `cdc source`: the Debezium connector that captures the bookings table, through Connect's REST API. */
export function registerSourceCommands(program: Command): void {
  const source = program
    .command('source')
    .description(
      'the database source: a Debezium PostgreSQL connector on Kafka Connect (DATABASE_URL or PG* variables, CONNECT_URL; default the local stack)',
    );
  source
    .command('create')
    .description(
      'check the database and Connect, print the plan; with --execute create the source topic and the connector',
    )
    .option('--execute', 'create them (without it, only the checks and the plan)')
    .option('--snapshot <mode>', "'initial' (existing rows first, default) or 'never'", 'initial')
    .option('-p, --partitions <n>', 'partitions of the source topic', intOption('--partitions', 1, 1000), 3)
    .action((opts: { execute?: boolean; snapshot: string; partitions: number }) =>
      run(async () => {
        const ctx = commandContext('source');
        const s = settings(ctx, opts.snapshot);
        const plan = planSource(s);
        const { exists } = await checkPlan(s, plan);
        printPlan(plan, opts.execute ? 'creating' : 'plan (run again with --execute to create it)');
        if (exists)
          process.stdout.write(`connector ${plan.connector} exists: its configuration is updated\n`);
        if (!opts.execute) return;
        const status = await createSource(s, plan, opts.partitions, ctx.logger);
        process.stdout.write(`connector ${status.name} ${status.connector.state}\n`);
      }),
    );
  source
    .command('status')
    .description('connector and task state, replication slot lag (bytes and seconds)')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) =>
      run(async () => {
        const ctx = commandContext('source');
        const s = settings(ctx);
        const plan = planSource(s);
        const st = await sourceStatus(s, plan, ctx.logger);
        if (opts.json) {
          process.stdout.write(
            `${JSON.stringify({ plan: { ...plan, database: describeTarget(plan.database), connectorDatabase: describeTarget(plan.connectorDatabase) }, ...st })}\n`,
          );
          return;
        }
        const c = st.connector;
        process.stdout.write(
          [
            `connector  ${plan.connector}: ${c ? c.connector.state : 'not created'}`,
            ...(c?.tasks ?? []).map(
              (t) => `  task ${t.id}   ${t.state}${t.trace ? `: ${t.trace.split('\n')[0]}` : ''}`,
            ),
            `snapshot   ${formatSnapshot(st.snapshot)}`,
            `slot       ${plan.slot}: ${
              st.slot
                ? `${st.slot.active ? 'active' : 'inactive'}, lag ${st.slot.lagBytes ?? '?'} bytes, ${st.slot.lagSeconds ?? '?'} s`
                : 'none'
            }`,
            '',
          ].join('\n'),
        );
      }),
    );
  for (const [name, pause] of [
    ['pause', true],
    ['resume', false],
  ] as const) {
    source
      .command(name)
      .description(`${name} the connector (the slot keeps the changes meanwhile)`)
      .action(() =>
        run(async () => {
          const ctx = commandContext('source');
          const s = settings(ctx);
          await pauseSource(s, planSource(s), pause);
          process.stdout.write(`${name}d\n`);
        }),
      );
  }
  source
    .command('delete')
    .description(
      'remove the connector and its offsets, then drop the replication slot and publication (with --execute)',
    )
    .option('--execute', 'delete (without it, only the plan)')
    .action((opts: { execute?: boolean }) =>
      run(async () => {
        const ctx = commandContext('source');
        const s = settings(ctx);
        const plan = planSource(s);
        printPlan(plan, opts.execute ? 'deleting' : 'would delete (run again with --execute)');
        if (!opts.execute) return;
        const r = await deleteSource(s, plan);
        process.stdout.write(
          `connector ${r.connectorRemoved ? 'removed' : 'was not there'}; slot and publication dropped\n`,
        );
      }),
    );
}
