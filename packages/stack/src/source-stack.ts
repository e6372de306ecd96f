import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { errorMessage, parseEnv, StackError, waitFor, type Env, type Logger } from '@cdc/core';
import { z } from 'zod';
import {
  connectCommand,
  connectFiles,
  ensureConnectDistribution,
  writeConnectConfig,
  type ConnectNodeOptions,
} from './connect-node';
import {
  clusterDir,
  createSourceDatabase,
  findPostgresBin,
  initClusterIfNeeded,
  postgresFiles,
  postgresPid,
  stackDatabaseUrl,
  startPostgres,
  stopPostgres,
} from './postgres-node';
import { findJava, isPortOpen, readPid, removeFile, spawnDetached, stopPid, tailFile } from './proc';
import type { StackConfig } from './stack';

/**
 * The source side of the local stack (`cdc stack up --source postgres`): a PostgreSQL cluster
 * with the bookings table, and a Kafka Connect worker with the Debezium connector. With
 * DATABASE_URL (or PGHOST) set the user's database is used and none is started; with CONNECT_URL
 * set, the user's Connect cluster.
 */
export interface SourceStackConfig {
  postgresPort: number;
  connectPort: number;
  connectHeapMb: number;
  /** The database the connector captures: the user's (DATABASE_URL) or the stack's. */
  databaseUrl: string;
  /** The same database as the Connect worker reaches it (CONNECT_DATABASE_URL), when that differs. */
  connectDatabaseUrl: string | undefined;
  externalDatabase: boolean;
  connectUrl: string;
  externalConnect: boolean;
}

const port = z.coerce.number().int().min(1024).max(65535);
/** The settings of the source side: the local stack's ports, or the user's database and Connect. */
export const sourceStackSchema = z.object({
  CDC_POSTGRES_PORT: port
    .default(5432)
    .describe("port of the local stack's PostgreSQL (`--source postgres`), on 127.0.0.1"),
  CDC_CONNECT_PORT: port
    .default(8083)
    .describe("REST port of the local stack's Kafka Connect worker (`--source postgres`), on 127.0.0.1"),
  CDC_CONNECT_HEAP_MB: z.coerce
    .number()
    .int()
    .min(128)
    .max(8192)
    .default(512)
    .describe("heap of the local stack's Kafka Connect worker (MiB)"),
  DATABASE_URL: z
    .string()
    .url()
    .optional()
    .describe(
      'your PostgreSQL, postgres://user:password@host:5432/db: then no database is started (the table must exist)',
    ),
  CONNECT_DATABASE_URL: z
    .string()
    .url()
    .optional()
    .describe(
      'the same database as the Connect worker reaches it, when not as this host does (a Connect container)',
    ),
  PGHOST: z
    .string()
    .optional()
    .describe("libpq's variables (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE) instead of DATABASE_URL"),
  CONNECT_URL: z
    .string()
    .url()
    .optional()
    .describe(
      'your Kafka Connect cluster (it needs the Debezium PostgreSQL connector): then no worker is started',
    ),
});

export function sourceStackConfig(env: Env = process.env): SourceStackConfig {
  const e = parseEnv(sourceStackSchema, env);
  const externalDatabase = e.DATABASE_URL !== undefined || e.PGHOST !== undefined;
  return {
    postgresPort: e.CDC_POSTGRES_PORT,
    connectPort: e.CDC_CONNECT_PORT,
    connectHeapMb: e.CDC_CONNECT_HEAP_MB,
    databaseUrl: e.DATABASE_URL ?? (e.PGHOST ? '' : stackDatabaseUrl(e.CDC_POSTGRES_PORT)),
    connectDatabaseUrl: e.CONNECT_DATABASE_URL,
    externalDatabase,
    connectUrl: e.CONNECT_URL ?? `http://127.0.0.1:${e.CDC_CONNECT_PORT}`,
    externalConnect: e.CONNECT_URL !== undefined,
  };
}

export interface SourceComponentStatus {
  name: 'postgres' | 'connect';
  running: boolean;
  pid?: number;
  address: string;
  logFile: string;
}

const postgresDir = (c: StackConfig) => clusterDir(path.join(c.home, c.name, 'postgres'));
const connectDir = (c: StackConfig) => path.join(c.home, c.name, 'connect');

export function sourceStackStatus(c: StackConfig, s: SourceStackConfig): SourceComponentStatus[] {
  const out: SourceComponentStatus[] = [];
  if (!s.externalDatabase) {
    const pid = postgresPid(postgresDir(c));
    out.push({
      name: 'postgres',
      running: pid !== undefined,
      ...(pid ? { pid } : {}),
      address: `127.0.0.1:${s.postgresPort}`,
      logFile: postgresFiles(postgresDir(c)).logFile,
    });
  }
  if (!s.externalConnect) {
    const f = connectFiles(connectDir(c));
    const pid = readPid(f.pidFile);
    out.push({
      name: 'connect',
      running: pid !== undefined,
      ...(pid ? { pid } : {}),
      address: s.connectUrl,
      logFile: f.logFile,
    });
  }
  return out;
}

/** Starts PostgreSQL (unless external) and the Connect worker (unless external); returns when both answer. */
export async function sourceStackUp(
  c: StackConfig,
  s: SourceStackConfig,
  brokers: string,
  logger: Logger,
): Promise<SourceComponentStatus[]> {
  if (!s.externalDatabase) await postgresUp(c, s, logger);
  if (!s.externalConnect) await connectUp(c, s, brokers, logger);
  return sourceStackStatus(c, s);
}

async function postgresUp(c: StackConfig, s: SourceStackConfig, logger: Logger): Promise<void> {
  const bin = findPostgresBin();
  const o = { dir: postgresDir(c), port: s.postgresPort };
  mkdirSync(o.dir, { recursive: true });
  if (!postgresPid(o.dir)) {
    await assertPortFree(s.postgresPort, 'PostgreSQL', 'CDC_POSTGRES_PORT');
    if (initClusterIfNeeded(bin, o)) logger.info({ dir: o.dir }, 'initialised a PostgreSQL cluster');
    startPostgres(bin, o);
    logger.info({ port: s.postgresPort, log: postgresFiles(o.dir).logFile }, 'started PostgreSQL');
  }
  createSourceDatabase(bin, o);
}

/** The Connect worker's own restart after a SIGKILL: the same files, the same topics. */
export async function connectUp(
  c: StackConfig,
  s: SourceStackConfig,
  brokers: string,
  logger: Logger,
): Promise<void> {
  const dir = connectDir(c);
  const f = connectFiles(dir);
  if (readPid(f.pidFile)) return;
  const dist = ensureConnectDistribution(c.home, logger);
  await assertPortFree(s.connectPort, 'Kafka Connect', 'CDC_CONNECT_PORT');
  const o: ConnectNodeOptions = {
    dir,
    port: s.connectPort,
    brokers,
    pluginPath: dist.pluginPath,
    clusterName: c.name,
    heapMb: s.connectHeapMb,
  };
  writeConnectConfig(o);
  const [cmd, ...args] = connectCommand(findJava(), dist.connectLibDir, o);
  const pid = spawnDetached(cmd!, args, { logFile: f.logFile, pidFile: f.pidFile });
  logger.info({ pid, port: s.connectPort, log: f.logFile }, 'starting Kafka Connect');
  try {
    await waitFor(
      async () => {
        if (!readPid(f.pidFile)) throw new StackError('Kafka Connect exited during start-up');
        const res = await fetch(`${s.connectUrl}/connector-plugins`).catch(() => undefined);
        if (!res?.ok) return false;
        const plugins = (await res.json()) as { class: string }[];
        return plugins.some((p) => p.class.includes('PostgresConnector'));
      },
      {
        timeoutMs: c.startTimeoutMs,
        intervalMs: 500,
        what: 'Kafka Connect to answer with the Debezium plugin',
      },
    );
  } catch (err) {
    const running = readPid(f.pidFile);
    if (running) await stopPid(running, 5000);
    removeFile(f.pidFile);
    throw new StackError(
      `Kafka Connect did not start: ${errorMessage(err)}\nlog: ${f.logFile}\n--- last lines ---\n${tailFile(f.logFile)}`,
    );
  }
}

/** Stops Connect, then PostgreSQL (fast shutdown). Data is kept. */
export async function sourceStackDown(c: StackConfig, s: SourceStackConfig, logger: Logger): Promise<void> {
  const f = connectFiles(connectDir(c));
  const pid = readPid(f.pidFile);
  if (pid) logger.info({ pid, how: await stopPid(pid, 20000) }, 'Kafka Connect stopped');
  removeFile(f.pidFile);
  if (!s.externalDatabase && postgresPid(postgresDir(c))) {
    stopPostgres(findPostgresBin(), postgresDir(c));
    logger.info('PostgreSQL stopped');
  }
}

/** PostgreSQL of the local stack, stopped and started again (a restart under a running connector). */
export function restartStackPostgres(c: StackConfig, s: SourceStackConfig): void {
  const bin = findPostgresBin();
  stopPostgres(bin, postgresDir(c));
  startPostgres(bin, { dir: postgresDir(c), port: s.postgresPort });
}

/** The Connect worker's pid, when the stack runs it. */
export function connectPid(c: StackConfig): number | undefined {
  return readPid(connectFiles(connectDir(c)).pidFile);
}

async function assertPortFree(p: number, what: string, setting: string): Promise<void> {
  if (await isPortOpen(p)) {
    throw new StackError(
      `port ${p} for ${what} is already taken by another process; stop it, or choose another port with ${setting}=<port>`,
      'CONFIG_INVALID',
    );
  }
}
