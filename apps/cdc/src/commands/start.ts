import path from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { captureSchema, checkPlan, createSource, planSource } from '@cdc/capture';
import {
  AbortedError,
  ConfigError,
  describeLoss,
  OutageTracker,
  parseEnv,
  retryWhileOutage,
  topicNames,
} from '@cdc/core';
import { aggregatorSchema } from '@cdc/aggregator';
import { alertsSchema } from '@cdc/alerts';
import { enricherSchema } from '@cdc/enricher';
import { Shutdown } from '@cdc/observe';
import { DEFAULT_OPS_PORT as PRODUCER_OPS_PORT } from '@cdc/producer';
import {
  distributionsFetched,
  sourceStackConfig,
  sourceStackUp,
  stackStatus,
  stackUp,
  type StackStatus,
} from '@cdc/stack';
import { commandContext, type CommandContext } from '../context';
import { exitSoon } from '../lifecycle';
import { intOption, run } from '../run';
import { resolvePort, untilHealthy } from '../service-health';
import { createTopics, registerSchemas } from '../setup';
import { startConsole, type StartConsole } from '../start-console';
import { superviseChildren, type ChildSpec } from '../supervisor';
import { printSourceStatus, printStatus, sourceOption } from './stack';

/** `cdc start`'s own settings (the services' are theirs: enricher, aggregator, live UI, alerts). */
export const startSchema = z.object({
  CDC_LOG_DIR: z
    .string()
    .min(1)
    .default('data/logs')
    .describe(
      "folder of `cdc start`'s log files, one per service (the previous run's kept as <service>.log.1); `--verbose` shows the logs in the terminal instead",
    ),
});

interface StartOptions {
  partitions: number;
  rate: number;
  produce: boolean;
  producerOpsPort: number;
  uiPort: number;
  db: string;
  /** 'postgres': changes come from the database (Debezium and the capture stage); else the producer writes bronze. */
  source?: string;
  verbose: boolean;
  logDir?: string;
}

/** The ports of the services' /healthz, each known before it starts (0 resolved to a free one). */
export interface ServicePorts {
  capture: number;
  enricher: number;
  aggregator: number;
  liveUi: number;
  alerts: number;
  producer: number;
}

const opsPortsSchema = z.object({
  ...captureSchema.pick({ CAPTURE_OPS_PORT: true }).shape,
  ...enricherSchema.pick({ ENRICHER_OPS_PORT: true }).shape,
  ...aggregatorSchema.pick({ AGGREGATOR_OPS_PORT: true }).shape,
  ...alertsSchema.pick({ ALERTS_OPS_PORT: true }).shape,
});

async function servicePorts(o: StartOptions): Promise<ServicePorts> {
  const e = parseEnv(opsPortsSchema, process.env);
  return {
    capture: o.source === 'postgres' ? await resolvePort(e.CAPTURE_OPS_PORT) : 0,
    enricher: await resolvePort(e.ENRICHER_OPS_PORT),
    aggregator: await resolvePort(e.AGGREGATOR_OPS_PORT),
    liveUi: await resolvePort(o.uiPort),
    alerts: await resolvePort(e.ALERTS_OPS_PORT),
    producer: o.produce ? await resolvePort(o.producerOpsPort) : 0,
  };
}

/** A child of `cdc start` and the address of its /healthz. */
export interface PipelineChild extends ChildSpec {
  healthUrl: string;
}

const local = (port: number): string => `http://127.0.0.1:${port}/healthz`;

/** The children of `cdc start`, in the order they start. */
export function pipelineChildren(
  o: Pick<StartOptions, 'db' | 'rate' | 'produce' | 'source'>,
  p: ServicePorts,
): PipelineChild[] {
  const fromDatabase = o.source === 'postgres';
  const children: PipelineChild[] = [
    ...(fromDatabase
      ? [
          {
            name: 'capture',
            args: ['capture'],
            env: { CAPTURE_OPS_PORT: String(p.capture) },
            healthUrl: local(p.capture),
          },
        ]
      : []),
    {
      name: 'enricher',
      args: ['enrich'],
      env: { ENRICHER_OPS_PORT: String(p.enricher) },
      healthUrl: local(p.enricher),
    },
    {
      name: 'aggregator',
      args: ['aggregate', '--db', o.db],
      env: { AGGREGATOR_OPS_PORT: String(p.aggregator) },
      healthUrl: local(p.aggregator),
    },
    {
      name: 'live-ui',
      args: ['ui', '--db', o.db, '--port', String(p.liveUi)],
      healthUrl: local(p.liveUi),
    },
    {
      name: 'alerts',
      args: ['alerts'],
      env: { ALERTS_OPS_PORT: String(p.alerts) },
      healthUrl: local(p.alerts),
    },
  ];
  if (o.produce) {
    // With a database, the sample traffic is SQL on its table, captured like a booking application's.
    const to = fromDatabase ? ['--to', 'postgres'] : [];
    children.push({
      name: 'producer',
      args: ['produce', ...to, '--rate', String(o.rate), '--no-progress', '--ops-port', String(p.producer)],
      healthUrl: local(p.producer),
    });
  }
  return children;
}

/**
 * `--source postgres`: PostgreSQL (unless DATABASE_URL or PGHOST names the user's) and a Kafka
 * Connect worker with Debezium (unless CONNECT_URL names the user's), then the connector, as
 * `cdc source create --execute` makes it: the same checks first, and an existing one is kept
 * (its configuration updated), so a second start resumes where the first stopped.
 */
async function startSource(
  ctx: CommandContext,
  out: StartConsole,
  brokers: StackStatus['brokers'],
  partitions: number,
): Promise<Record<string, string | undefined>> {
  const source = sourceStackConfig();
  const components = await sourceStackUp(ctx.stack, source, brokers, ctx.logger);
  if (out.verbose) printSourceStatus(components);
  else out.say(`source    ${components.map((c) => `${c.name} ${c.address}`).join(', ')}`);
  const settings = {
    connection: ctx.connection,
    databaseUrl: source.databaseUrl || undefined,
    connectDatabaseUrl: source.connectDatabaseUrl,
    connectUrl: source.connectUrl,
  };
  const plan = planSource(settings);
  const { exists } = await checkPlan(settings, plan);
  const status = await createSource(settings, plan, partitions, ctx.logger);
  out.say(
    `connector ${status.name} ${exists ? 'kept' : 'created'}: ${plan.table} -> ${plan.sourceTopic} (${status.connector.state})`,
  );
  return { DATABASE_URL: source.databaseUrl || undefined, CONNECT_URL: source.connectUrl };
}

export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description(
      'start the whole pipeline: the local stack (unless KAFKA_BROKERS and SCHEMA_REGISTRY_URL are set), ' +
        'topics and schemas, enricher, aggregator, live dashboard and a gentle sample producer; one line per ' +
        'service as it becomes ready, then only warnings and errors (full logs in CDC_LOG_DIR, or here with ' +
        '--verbose); Ctrl-C stops the services',
    )
    .option(
      '-p, --partitions <n>',
      'partitions per topic when creating them',
      intOption('--partitions', 1, 1000),
      3,
    )
    .option('--rate <events/s>', 'rate of the sample producer', intOption('--rate', 1, 1_000_000), 20)
    .option('--no-produce', 'do not run the sample producer (produce yourself with `npx cdc produce`)')
    .option('--ui-port <port>', 'port of the dashboard, 0 = random', intOption('--ui-port', 0, 65535), 8080)
    .option(
      '--producer-ops-port <port>',
      "port of the sample producer's /healthz and /metrics, 0 = random",
      intOption('--producer-ops-port', 0, 65535),
      PRODUCER_OPS_PORT,
    )
    .option(
      '--source <kind>',
      "'postgres': capture the bookings from PostgreSQL (the local stack's, or DATABASE_URL's) through Kafka Connect and Debezium; " +
        'the sample producer then writes SQL to its table',
    )
    .option(
      '--db <path>',
      'the aggregator database, shared with the dashboard',
      process.env.AGGREGATOR_DB_PATH ?? 'data/aggregator.db',
    )
    .option('--verbose', "show every service's log in the terminal instead of files under --log-dir", false)
    .option('--log-dir <dir>', "folder of the services' log files (default CDC_LOG_DIR, data/logs)")
    .action((opts: StartOptions) => run(() => startPipeline(opts)));
}

async function startPipeline(opts: StartOptions): Promise<void> {
  const fromDatabase = sourceOption(opts.source) === 'postgres';
  const out = startConsole({
    verbose: opts.verbose,
    logDir: opts.logDir ?? parseEnv(startSchema, process.env).CDC_LOG_DIR,
  });
  const ctx = commandContext('start', out.destination('start'));
  // Ctrl-C works from the first moment: during start-up (waiting for a broker that is down)
  // it ends the wait; once the services run, it stops them within SHUTDOWN_TIMEOUT_MS. The
  // children run in their own process groups: closing the terminal (SIGHUP) must stop them too.
  const shutdown = new Shutdown({
    timeoutMs: ctx.shutdownTimeoutMs,
    logger: ctx.logger,
    signals: ['SIGINT', 'SIGTERM', 'SIGHUP'],
  });
  let sourceEnv: Record<string, string | undefined> = {};
  try {
    const stack = await prepareStack(ctx, out, opts.partitions, shutdown);
    if (fromDatabase) sourceEnv = await startSource(ctx, out, stack.brokers, opts.partitions);
  } catch (err) {
    shutdown.dispose();
    await out.close();
    exitSoon();
    if (err instanceof AbortedError || shutdown.stopping) {
      out.say('stopped before the services were started');
      return;
    }
    throw err;
  }
  try {
    await runServices(ctx, out, opts, shutdown, sourceEnv);
  } finally {
    await out.close();
  }
}

/** The stack (started when local and not running), the topics and the schemas. */
async function prepareStack(
  ctx: CommandContext,
  out: StartConsole,
  partitions: number,
  shutdown: Shutdown,
): Promise<StackStatus> {
  const outages = new OutageTracker({ logger: ctx.logger });
  const retry = <T>(what: string, fn: () => Promise<T>): Promise<T> =>
    retryWhileOutage(fn, { outages, what, signal: shutdown.signal });
  let stack: StackStatus;
  if (out.verbose) {
    stack = await stackUp(ctx.stack, ctx.logger);
    printStatus(stack);
  } else {
    const before = stackStatus(ctx.stack);
    const startedAt = Date.now();
    if (!before.external && !before.components.every((c) => c.running)) {
      const fetching = distributionsFetched(ctx.stack.home, ctx.stack.kafkaVersion)
        ? ''
        : ' (first run: fetching them from Maven Central, a few minutes)';
      out.say(`stack     starting Kafka ${ctx.stack.kafkaVersion} and the schema registry${fetching}`);
    }
    const s = await stackUp(ctx.stack, ctx.logger);
    const how = s.external
      ? 'external'
      : before.components.every((c) => c.running)
        ? `already running, logs under ${path.dirname(path.dirname(s.components[0]!.logFile))}`
        : `up in ${Math.round((Date.now() - startedAt) / 1000)} s, logs under ${path.dirname(path.dirname(s.components[0]!.logFile))}`;
    out.say(`stack     Kafka ${s.brokers}, registry ${s.registryUrl} (${how})`);
    stack = s;
  }
  const topics = await retry('creating the topics', () =>
    createTopics(ctx.connection, ctx.logger, partitions),
  );
  if (out.verbose && topics.created.length) out.say(`created ${topics.created.join(', ')}`);
  for (const t of topics.losingHistory) {
    process.stderr.write(`warning: ${describeLoss(t)}: rebuilds and backfills cover only that window\n`);
  }
  await retry('registering the schemas', () => registerSchemas(ctx.connection));
  if (!out.verbose) {
    const names = topicNames(ctx.connection.topicPrefix);
    out.say(
      `topics    ${Object.keys(names).length} ready (${topics.created.length} created now), schemas registered: ${names.bronze} → ${names.silver} → ${names.gold}`,
    );
  }
  return stack;
}

/** The services as children: started, announced as each becomes ready, stopped on Ctrl-C. */
async function runServices(
  ctx: CommandContext,
  out: StartConsole,
  opts: StartOptions,
  shutdown: Shutdown,
  sourceEnv: Record<string, string | undefined>,
): Promise<void> {
  const env = {
    ...process.env,
    KAFKA_BROKERS: ctx.connection.brokers.join(','),
    SCHEMA_REGISTRY_URL: ctx.connection.registryUrl,
    AGGREGATOR_DB_PATH: path.resolve(opts.db),
    ...sourceEnv,
  };
  const ports = await servicePorts(opts);
  const children = pipelineChildren(opts, ports);
  const readiness = announceReadiness(out, children, shutdown.signal, ports.liveUi);
  let gaveUp: { child: string; code: number; message: string } | null = null;
  const supervisor = superviseChildren(children, {
    env,
    logger: ctx.logger,
    stopTimeoutMs: ctx.shutdownTimeoutMs,
    onGiveUp: (child, code, message) => {
      gaveUp ??= { child, code, message };
      shutdown.request(`${child} failed`);
    },
    onLine: (child, line) => out.line(child, line),
    onLaunch: readiness.launched,
  });
  // A second Ctrl-C: the shutdown exits at once; no child may outlive it.
  process.once('exit', () => supervisor.kill());
  shutdown.setTarget({
    close: () => supervisor.stop(),
    unfinishedWork: () =>
      supervisor.running() > 0 ? [`${supervisor.running()} service(s) still stopping (killed)`] : [],
  });

  const reason = await shutdown.requested;
  if (!gaveUp) out.say('\nstopping the pipeline services…');
  const outcome = await shutdown.stop({ close: () => supervisor.stop(), unfinishedWork: () => [] }, reason);
  if (!out.verbose && !gaveUp) out.say(`stopped (logs in ${out.logDir})`);
  exitSoon();
  const failed = gaveUp as { child: string; code: number; message: string } | null;
  if (failed) {
    throw new ConfigError(
      `the ${failed.child} cannot start (exit code ${failed.code}), so the pipeline was stopped: ${failed.message.replace(/^error( \[[A-Z_]+\])?: /, '')}`,
    );
  }
  process.exitCode = outcome.code;
}

/** A still-starting service is named (with its log) after this long. */
const SLOW_START_MS = 60_000;

/**
 * One line per service as its /healthz first answers 200, then the dashboard's address once all
 * are ready; a service restarted after a crash says when it is ready again.
 */
function announceReadiness(
  out: StartConsole,
  children: readonly PipelineChild[],
  signal: AbortSignal,
  uiPort: number,
): { launched: (child: string, restart: boolean) => void } {
  const ready = new Set<string>();
  const width = Math.max(...children.map((c) => c.name.length));
  const where = (name: string) => (out.verbose ? '' : `  log ${out.logFile(name)}`);
  const slow = setTimeout(() => {
    const waiting = children.filter((c) => !ready.has(c.name));
    for (const c of waiting)
      process.stderr.write(
        `warning: ${c.name} is not ready after ${SLOW_START_MS / 1000} s (${c.healthUrl} does not answer 200)${where(c.name)}\n`,
      );
  }, SLOW_START_MS);
  slow.unref();
  signal.addEventListener('abort', () => clearTimeout(slow));

  const dashboard = () => {
    clearTimeout(slow);
    out.say(
      [
        '',
        `  Dashboard: http://127.0.0.1:${uiPort}`,
        out.verbose ? null : `  Logs: ${out.logDir}/<service>.log (--verbose shows them here instead)`,
        '  Stop: Ctrl-C (the broker and registry keep running; `npx cdc stack down` stops them)',
        '',
      ]
        .filter((l) => l !== null)
        .join('\n'),
    );
  };
  const launched = (name: string, restart: boolean): void => {
    const child = children.find((c) => c.name === name);
    if (!child) return;
    void untilHealthy(child.healthUrl, signal).then((healthy) => {
      if (!healthy || signal.aborted) return;
      if (restart) {
        process.stderr.write(`[${name}] ready again after its restart\n`);
        return;
      }
      ready.add(name);
      out.say(`ready     ${name.padEnd(width)}  ${child.healthUrl}${where(name)}`);
      if (ready.size === children.length) dashboard();
    });
  };
  return { launched };
}
