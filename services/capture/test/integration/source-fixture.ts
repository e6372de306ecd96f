import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { createLogger, waitFor } from '@cdc/core';
import {
  connectPid,
  connectUp,
  isPortOpen,
  restartStackPostgres,
  SOURCE_TABLE_DDL,
  sourceStackConfig,
  sourceStackDown,
  sourceStackUp,
  stackConfig,
  type SourceStackConfig,
  type StackConfig,
} from '@cdc/stack';
import { randomSuffix, REPO_ROOT } from '@cdc/testing';

/**
 * A PostgreSQL and a Kafka Connect worker (with Debezium) of the capture tests, under the repo's
 * `.stack/test-capture`, on CDC_TEST_POSTGRES_PORT / CDC_TEST_CONNECT_PORT (default 39432 / 39083),
 * next to the integration stack's broker. Each test gets its own database.
 */
export interface SourceFixture {
  stack: StackConfig;
  source: SourceStackConfig;
  connectUrl: string;
  /** A fresh database with the source table (REPLICA IDENTITY FULL unless `replicaIdentityFull: false`). */
  createDatabase(o?: { table?: boolean; replicaIdentityFull?: boolean }): Promise<TestDatabase>;
  /** SIGKILLs the worker and returns once it is gone. */
  killConnect(): Promise<void>;
  startConnect(): Promise<void>;
  restartPostgres(): void;
  close(): Promise<void>;
}

export interface TestDatabase {
  name: string;
  url: string;
  client: Client;
  drop(): Promise<void>;
}

export async function startSourceFixture(): Promise<SourceFixture> {
  const env = {
    ...process.env,
    CDC_STACK_HOME: path.join(REPO_ROOT, '.stack'),
    CDC_STACK_NAME: 'test-capture',
    CDC_STACK_START_TIMEOUT_MS: '240000',
    CDC_POSTGRES_PORT: process.env.CDC_TEST_POSTGRES_PORT ?? '39432',
    CDC_CONNECT_PORT: process.env.CDC_TEST_CONNECT_PORT ?? '39083',
    DATABASE_URL: undefined,
    PGHOST: undefined,
    CONNECT_URL: undefined,
  };
  const stack = stackConfig(env);
  const source = sourceStackConfig(env);
  const brokers = process.env.KAFKA_BROKERS!;
  const logger = createLogger('test-source', 'warn');
  await sourceStackUp(stack, source, brokers, logger);
  const admin = new URL(source.databaseUrl);
  const adminUrl = (db: string) => {
    const u = new URL(admin.toString());
    u.pathname = `/${db}`;
    return u.toString();
  };
  const withClient = async <T>(db: string, fn: (c: Client) => Promise<T>): Promise<T> => {
    const c = new Client({ connectionString: adminUrl(db) });
    await c.connect();
    try {
      return await fn(c);
    } finally {
      await c.end();
    }
  };
  return {
    stack,
    source,
    connectUrl: source.connectUrl,
    async createDatabase(o = {}) {
      const name = `bookings_${randomSuffix()}`;
      await withClient('postgres', (c) => c.query(`CREATE DATABASE ${name}`));
      if (o.table !== false) {
        let ddl = readFileSync(SOURCE_TABLE_DDL, 'utf8');
        if (o.replicaIdentityFull === false)
          ddl = ddl.replace(/ALTER TABLE raw_movie_bookings REPLICA IDENTITY FULL;/, '');
        await withClient(name, (c) => c.query(ddl));
      }
      const client = new Client({ connectionString: adminUrl(name) });
      await client.connect();
      return {
        name,
        url: adminUrl(name),
        client,
        async drop(this: TestDatabase) {
          await this.client.end().catch(() => undefined);
          await withClient('postgres', (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
        },
      };
    },
    async killConnect() {
      const pid = connectPid(stack);
      if (!pid) return;
      process.kill(pid, 'SIGKILL');
      // Gone means its port is closed too (a JVM's threads exit after its main thread).
      await waitFor(async () => connectPid(stack) === undefined && !(await isPortOpen(source.connectPort)), {
        timeoutMs: 30_000,
        what: 'Kafka Connect to die',
      });
    },
    startConnect: () => connectUp(stack, source, brokers, logger),
    restartPostgres: () => restartStackPostgres(stack, source),
    close: () => sourceStackDown(stack, source, logger),
  };
}

/** The slots PostgreSQL keeps for a database. */
export async function slotsOf(client: Client, database: string): Promise<string[]> {
  const r = await client.query<{ slot_name: string }>(
    'SELECT slot_name FROM pg_replication_slots WHERE database = $1',
    [database],
  );
  return r.rows.map((x) => x.slot_name);
}
