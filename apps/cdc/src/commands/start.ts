import path from 'node:path';
import type { Command } from 'commander';
import { checkPlan, createSource, planSource } from '@cdc/capture';
import { AbortedError, ConfigError, describeLoss, OutageTracker, retryWhileOutage, waitFor } from '@cdc/core';
import { Shutdown } from '@cdc/observe';
import { sourceStackConfig, sourceStackUp, stackUp, type StackStatus } from '@cdc/stack';
import { commandContext, type CommandContext } from '../context';
import { exitSoon } from '../lifecycle';
import { intOption, run } from '../run';
import { createTopics, registerSchemas } from '../setup';
import { superviseChildren, type ChildSpec } from '../supervisor';
import { printSourceStatus, printStatus, sourceOption } from './stack';

interface StartOptions {
  partitions: number;
  rate: number;
  produce: boolean;
  producerOpsPort: number;
  uiPort: number;
  db: string;
  /** 'postgres': changes come from the database (Debezium and the capture stage); else the producer writes bronze. */
  source?: string;
}

/** The children of `cdc start`, in the order they start. */
export function pipelineChildren(o: StartOptions): ChildSpec[] {
  const fromDatabase = o.source === 'postgres';
  const children: ChildSpec[] = [
    ...(fromDatabase ? [{ name: 'capture', args: ['capture'] }] : []),
    { name: 'enricher', args: ['enrich'] },
    { name: 'aggregator', args: ['aggregate', '--db', o.db] },
    { name: 'live-ui', args: ['ui', '--db', o.db, '--port', String(o.uiPort)] },
    { name: 'alerts', args: ['alerts'] },
  ];
  if (o.produce) {
    // With a database, the sample traffic is SQL on its table, captured like a booking application's.
    const to = fromDatabase ? ['--to', 'postgres'] : [];
    const args = ['produce', ...to, '--rate', String(o.rate), '--ops-port', String(o.producerOpsPort)];
    children.push({ name: 'producer', args: [...args, '--no-progress'] });
  }
  return children;
}

/**
 * `--source postgres`: PostgreSQL (unless DATABASE_URL or PGHOST names the user's) and a Kafka
 * Connect worker with Debezium (unless CONNECT_URL names the user's), then the connector, as
 * `cdc source create --execute` makes it: the same checks first, and an existing one is kept
 * (its configuration updated), so a second start resumes where the first stopped.
 */
async function startSource(ctx: CommandContext, brokers: StackStatus['brokers'], partitions: number) {
  const source = sourceStackConfig();
  printSourceStatus(await sourceStackUp(ctx.stack, source, brokers, ctx.logger));
  const settings = {
    connection: ctx.connection,
    databaseUrl: source.databaseUrl || undefined,
    connectDatabaseUrl: source.connectDatabaseUrl,
    connectUrl: source.connectUrl,
  };
  const plan = planSource(settings);
  const { exists } = await checkPlan(settings, plan);
  const status = await createSource(settings, plan, partitions, ctx.logger);
  process.stdout.write(
    `connector ${status.name} ${exists ? 'kept' : 'created'}: ${plan.table} -> ${plan.sourceTopic} (${status.connector.state})\n`,
  );
  return { DATABASE_URL: source.databaseUrl || undefined, CONNECT_URL: source.connectUrl };
}

export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description(
      'start the whole pipeline: the local stack (unless KAFKA_BROKERS and SCHEMA_REGISTRY_URL are set), ' +
        'topics and schemas, enricher, aggregator, live dashboard and a gentle sample producer; Ctrl-C stops the services',
    )
    .option(
      '-p, --partitions <n>',
      'partitions per topic when creating them',
      intOption('--partitions', 1, 1000),
      3,
    )
    .option('--rate <events/s>', 'rate of the sample producer', intOption('--rate', 1, 1_000_000), 20)
    .option('--no-produce', 'do not run the sample producer (produce yourself with `npx cdc produce`)')
    .option(
      '--producer-ops-port <port>',
      "port of the sample producer's /healthz and /metrics (0 = a free one)",
      intOption('--producer-ops-port', 0, 65535),
      9470,
    )
    .option(
      '--source <kind>',
      "'postgres': capture the bookings from PostgreSQL (the local stack's, or DATABASE_URL's) through Kafka Connect and Debezium; " +
        'the sample producer then writes SQL to its table',
    )
    .option('--ui-port <port>', 'port of the dashboard', intOption('--ui-port', 1, 65535), 8080)
    .option(
      '--db <path>',
      'the aggregator database, shared with the dashboard',
      process.env.AGGREGATOR_DB_PATH ?? 'data/aggregator.db',
    )
    .action((opts: StartOptions) =>
      run(async () => {
        const fromDatabase = sourceOption(opts.source) === 'postgres';
        const ctx = commandContext('start');
        // Ctrl-C works from the first moment: during start-up (waiting for a broker that is down)
        // it ends the wait; once the services run, it stops them within SHUTDOWN_TIMEOUT_MS.
        const shutdown = new Shutdown({ timeoutMs: ctx.shutdownTimeoutMs, logger: ctx.logger });
        const outages = new OutageTracker({ logger: ctx.logger });
        const retry = <T>(what: string, fn: () => Promise<T>): Promise<T> =>
          retryWhileOutage(fn, { outages, what, signal: shutdown.signal });
        let sourceEnv: Record<string, string | undefined> = {};
        try {
          const stack = await stackUp(ctx.stack, ctx.logger);
          printStatus(stack);
          const topics = await retry('creating the topics', () =>
            createTopics(ctx.connection, ctx.logger, opts.partitions),
          );
          if (topics.created.length) process.stdout.write(`created ${topics.created.join(', ')}\n`);
          for (const t of topics.losingHistory) {
            process.stderr.write(
              `warning: ${describeLoss(t)}: rebuilds and backfills cover only that window\n`,
            );
          }
          await retry('registering the schemas', () => registerSchemas(ctx.connection));
          if (fromDatabase) sourceEnv = await startSource(ctx, stack.brokers, opts.partitions);
        } catch (err) {
          shutdown.dispose();
          exitSoon();
          if (err instanceof AbortedError || shutdown.stopping) {
            process.stdout.write('stopped before the services were started\n');
            return;
          }
          throw err;
        }

        const env = {
          ...process.env,
          KAFKA_BROKERS: ctx.connection.brokers.join(','),
          SCHEMA_REGISTRY_URL: ctx.connection.registryUrl,
          AGGREGATOR_DB_PATH: path.resolve(opts.db),
          ...sourceEnv,
        };
        let gaveUp: { child: string; code: number; message: string } | null = null;
        const supervisor = superviseChildren(pipelineChildren(opts), {
          env,
          logger: ctx.logger,
          stopTimeoutMs: ctx.shutdownTimeoutMs,
          onGiveUp: (child, code, message) => {
            gaveUp ??= { child, code, message };
            shutdown.request(`${child} failed`);
          },
        });
        // A second Ctrl-C: the shutdown exits at once; no child may outlive it.
        process.once('exit', () => supervisor.kill());
        shutdown.setTarget({
          close: () => supervisor.stop(),
          unfinishedWork: () =>
            supervisor.running() > 0 ? [`${supervisor.running()} service(s) still stopping (killed)`] : [],
        });

        const url = `http://127.0.0.1:${opts.uiPort}`;
        const ready = waitFor(
          async () => (await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) })).ok,
          { timeoutMs: 60_000, intervalMs: 500, what: 'the dashboard' },
        );
        void Promise.race([ready, shutdown.requested]).then(
          () => {
            if (!shutdown.stopping)
              process.stdout.write(
                `\n  Dashboard: ${url}\n  Stop: Ctrl-C (the broker and registry keep running; \`npx cdc stack down\` stops them)\n\n`,
              );
          },
          (err: unknown) => {
            if (!shutdown.stopping)
              ctx.logger.error({ err }, 'the dashboard did not come up; see its log lines above');
          },
        );
        const reason = await shutdown.requested;
        if (!gaveUp) process.stdout.write('\nstopping the pipeline services…\n');
        const outcome = await shutdown.stop(
          { close: () => supervisor.stop(), unfinishedWork: () => [] },
          reason,
        );
        exitSoon();
        const failed = gaveUp as { child: string; code: number; message: string } | null;
        if (failed) {
          throw new ConfigError(
            `the ${failed.child} cannot start (exit code ${failed.code}), so the pipeline was stopped: ${failed.message.replace(/^error( \[[A-Z_]+\])?: /, '')}`,
          );
        }
        process.exitCode = outcome.code;
      }),
    );
}
