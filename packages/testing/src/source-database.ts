import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { createLogger } from '@cdc/core';
import {
  SOURCE_TABLE_DDL,
  sourceStackConfig,
  sourceStackDown,
  sourceStackUp,
  stackConfig,
  type SourceStackConfig,
  type StackConfig,
} from '@cdc/stack';
import { REPO_ROOT } from './cdc-process';
import { randomSuffix } from './context';

/**
 * A PostgreSQL of the local stack's kind (Debian's binaries, `wal_level=logical`) for one test
 * file, under the repo's `.stack/<name>` on its own port, and nothing else: no Connect worker
 * (tests that need one run `cdc start --source postgres` or the capture test's fixture). Each
 * test gets its own database with the source table.
 */
export interface TestPostgres {
  stack: StackConfig;
  source: SourceStackConfig;
  /** A fresh database with the source table (sql/raw_movie_bookings.sql). */
  createDatabase(o?: { table?: boolean }): Promise<TestDatabase>;
  close(): Promise<void>;
}

export interface TestDatabase {
  name: string;
  url: string;
  client: Client;
  drop(): Promise<void>;
}

export async function startTestPostgres(o: { name: string; port: number }): Promise<TestPostgres> {
  const env = {
    ...process.env,
    CDC_STACK_HOME: path.join(REPO_ROOT, '.stack'),
    CDC_STACK_NAME: o.name,
    CDC_POSTGRES_PORT: String(o.port),
    DATABASE_URL: undefined,
    PGHOST: undefined,
    // An external Connect (never called): the stack starts PostgreSQL only.
    CONNECT_URL: 'http://127.0.0.1:1',
  };
  const stack = stackConfig(env);
  const source = sourceStackConfig(env);
  const logger = createLogger('test-postgres', 'warn');
  await sourceStackUp(stack, source, '', logger);
  const urlOf = (db: string) => {
    const u = new URL(source.databaseUrl);
    u.pathname = `/${db}`;
    return u.toString();
  };
  const withClient = async <T>(db: string, fn: (c: Client) => Promise<T>): Promise<T> => {
    const c = new Client({ connectionString: urlOf(db) });
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
    async createDatabase({ table = true } = {}) {
      const name = `bookings_${randomSuffix()}`;
      await withClient('postgres', (c) => c.query(`CREATE DATABASE ${name}`));
      if (table) await withClient(name, (c) => c.query(readFileSync(SOURCE_TABLE_DDL, 'utf8')));
      const client = new Client({ connectionString: urlOf(name) });
      await client.connect();
      return {
        name,
        url: urlOf(name),
        client,
        async drop() {
          await client.end().catch(() => undefined);
          await withClient('postgres', (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
        },
      };
    },
    close: () => sourceStackDown(stack, source, logger),
  };
}
