import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { createLogger, sleep } from '@cdc/core';
import {
  connectPid,
  SOURCE_TABLE_DDL,
  sourceStackConfig,
  sourceStackDown,
  sourceStackUp,
  stackConfig,
  type SourceStackConfig,
  type StackConfig,
} from '@cdc/stack';
import { randomSuffix } from '@cdc/testing';

/**
 * What the capture benchmarks share (not a benchmark itself): the local stack's PostgreSQL and
 * Kafka Connect worker with Debezium, next to the bench broker (stack `bench`, ports
 * BENCH_POSTGRES_PORT / BENCH_CONNECT_PORT, default 59432 / 59083), a fresh database with the
 * source table per run, and the worker's memory as the kernel sees it.
 */
export interface BenchSource {
  stack: StackConfig;
  source: SourceStackConfig;
  /** The run's own database, with raw_movie_bookings (REPLICA IDENTITY FULL). */
  databaseUrl: string;
  client: Client;
  connectUrl: string;
  /** The Connect worker's resident memory (MiB), or null when it is not the stack's. */
  connectRssMb(): number | null;
  /** Drops the run's database; stops PostgreSQL and Connect when this run started them. */
  close(): Promise<void>;
}

export async function openBenchSource(): Promise<BenchSource> {
  const env = {
    ...process.env,
    CDC_STACK_NAME: 'bench',
    CDC_POSTGRES_PORT: process.env.BENCH_POSTGRES_PORT ?? '59432',
    CDC_CONNECT_PORT: process.env.BENCH_CONNECT_PORT ?? '59083',
    DATABASE_URL: undefined,
    PGHOST: undefined,
    CONNECT_URL: undefined,
  };
  const stack = stackConfig(env);
  const source = sourceStackConfig(env);
  const logger = createLogger('bench-source', 'warn');
  await sourceStackUp(stack, source, process.env.KAFKA_BROKERS!, logger);
  const name = `bench_${randomSuffix()}`;
  const url = (db: string): string => {
    const u = new URL(source.databaseUrl);
    u.pathname = `/${db}`;
    return u.toString();
  };
  const admin = new Client({ connectionString: url('postgres') });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const client = new Client({ connectionString: url(name) });
  await client.connect();
  await client.query(readFileSync(SOURCE_TABLE_DDL, 'utf8'));
  return {
    stack,
    source,
    databaseUrl: url(name),
    client,
    connectUrl: source.connectUrl,
    connectRssMb: () => rssMb(connectPid(stack)),
    async close() {
      await client.end().catch(() => undefined);
      const c = new Client({ connectionString: url('postgres') });
      await c.connect();
      // The slot of a deleted connector may take a moment to be released by its walsender.
      for (let i = 0; i < 10; i++) {
        const r = await c
          .query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
          .then(() => true)
          .catch(() => false);
        if (r) break;
        await sleep(500);
      }
      await c.end();
      if (process.env.BENCH_KEEP_SOURCE !== '1') await sourceStackDown(stack, source, logger);
    },
  };
}

/** Resident set size of a process in MiB (/proc/<pid>/status VmRSS). */
export function rssMb(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(path.join('/proc', String(pid), 'status'), 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : null;
  } catch {
    return null;
  }
}

/** Samples a number every second until stopped; keeps the peak and the last value. */
export function sampleEverySecond(read: () => number | null): {
  stop(): { peak: number | null; last: number | null };
} {
  let peak: number | null = null;
  let last: number | null = null;
  const take = (): void => {
    last = read();
    if (last !== null && (peak === null || last > peak)) peak = last;
  };
  take();
  const timer = setInterval(take, 1000);
  return {
    stop() {
      clearInterval(timer);
      take();
      return { peak, last };
    },
  };
}
