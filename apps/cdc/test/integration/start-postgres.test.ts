import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { createLogger } from '@cdc/core';
import { sourceStackConfig, sourceStackDown, stackConfig } from '@cdc/stack';
import {
  createTestContext,
  EVENT_KPI_COLUMNS,
  freePort,
  KPI_COLUMNS,
  kpiDifferences,
  randomSuffix,
  REPO_ROOT,
  runCdc,
  startCdc,
  stateOracle,
  type CdcProcess,
  type KpiRow,
  type TestContext,
} from '@cdc/testing';

/**
 * `cdc start --source postgres` as a user runs it: it starts PostgreSQL and a Kafka Connect worker
 * with Debezium (a stack of this test's own, next to the test broker), creates the connector, and
 * runs capture, enricher, aggregator, dashboard and the sample producer writing SQL to the table.
 * Stopped with Ctrl-C and started again (the connector kept), the pipeline catches up and the
 * dashboard's API serves, for every movie, the KPIs SQL computes over the table (the event
 * counters aside: the table holds no history). `cdc source delete` then leaves no slot.
 */
describe('cdc start --source postgres', () => {
  let ctx: TestContext;
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'cdc-start-postgres-'));
  // A stack of its own, removed at the end: a fresh database, a fresh Connect cluster.
  const stackName = `test-start-pg-${randomSuffix()}`;
  const stackEnv = {
    CDC_STACK_HOME: path.join(REPO_ROOT, '.stack'),
    CDC_STACK_NAME: stackName,
    CDC_STACK_START_TIMEOUT_MS: '240000',
    CDC_POSTGRES_PORT: process.env.CDC_TEST_START_POSTGRES_PORT ?? '39436',
    CDC_CONNECT_PORT: process.env.CDC_TEST_START_CONNECT_PORT ?? '39085',
    DATABASE_URL: undefined,
    PGHOST: undefined,
    CONNECT_URL: undefined,
  };
  const source = sourceStackConfig({ ...process.env, ...stackEnv });

  beforeAll(async () => {
    ctx = await createTestContext({ name: 'start-postgres' });
  });
  afterAll(async () => {
    await ctx.cleanup();
    const stack = stackConfig({ ...process.env, ...stackEnv });
    await sourceStackDown(stack, source, createLogger('test-start-postgres', 'warn'));
    // CDC_KEEP_TEST_STACK=1 keeps its files (the logs), as the integration stack's.
    if (!process.env.CDC_KEEP_TEST_STACK)
      rmSync(path.join(REPO_ROOT, '.stack', stackName), { recursive: true, force: true });
    rmSync(tmp, { recursive: true, force: true });
  });

  const cdc = (args: string[]): CdcProcess =>
    ctx.track(
      startCdc(args, {
        connection: ctx.connection,
        env: {
          ...stackEnv,
          CAPTURE_OPS_PORT: '0',
          ENRICHER_OPS_PORT: '0',
          AGGREGATOR_OPS_PORT: '0',
          ALERTS_OPS_PORT: '0',
          ALERTS_DB_PATH: path.join(tmp, 'alerts.db'),
        },
      }),
    );

  /** The dashboard answers (on a loaded host a JVM starting next to it can slow its first minute). */
  const dashboardUp = (p: CdcProcess, url: string) =>
    p.waitFor(
      async () =>
        (await fetch(`${url}/api/summary`, { signal: AbortSignal.timeout(5000) }).catch(() => null))?.ok,
      { timeoutMs: 300_000, intervalMs: 1000, what: 'the dashboard' },
    );

  async function apiKpis(url: string): Promise<Map<string, KpiRow>> {
    const res = await fetch(`${url}/api/kpis`);
    const body = (await res.json()) as { movies: KpiRow[] };
    return new Map(body.movies.map((r) => [String(r.movie_key), r]));
  }

  it('sample traffic through the database reaches the dashboard; after a restart its KPIs equal SQL over the table', async () => {
    const uiPort = await freePort();
    const url = `http://127.0.0.1:${uiPort}`;
    const db = path.join(tmp, 'aggregator.db');
    const common = [
      '--source',
      'postgres',
      '--ui-port',
      String(uiPort),
      '--producer-ops-port',
      '0',
      '--db',
      db,
    ];

    const first = cdc(['start', ...common, '--rate', '100']);
    await dashboardUp(first, url);
    expect(first.stdout()).toMatch(/connector \S+ created: public\.raw_movie_bookings -> /);
    // Changes committed to the table, captured by Debezium, counted on the dashboard.
    await first.waitFor(
      async () => {
        const summary = (await (await fetch(`${url}/api/summary`)).json()) as { total_bookings: number };
        return summary.total_bookings >= 200;
      },
      { timeoutMs: 180_000, intervalMs: 1000, what: '200 bookings on the dashboard' },
    );
    expect(await first.stop('SIGINT')).toBe(0);

    // Started again without traffic: the connector is kept, the pipeline catches up.
    const second = cdc(['start', ...common, '--no-produce']);
    await dashboardUp(second, url);
    expect(second.stdout()).toMatch(/connector \S+ kept/);
    const client = new Client({ connectionString: source.databaseUrl });
    await client.connect();
    try {
      const columns = KPI_COLUMNS.filter((c) => !(EVENT_KPI_COLUMNS as readonly string[]).includes(c));
      let last: string[] = [];
      await second
        .waitFor(
          async () => {
            last = kpiDifferences(await apiKpis(url), await stateOracle(client), columns);
            return last.length === 0;
          },
          { timeoutMs: 180_000, intervalMs: 1000, what: 'dashboard KPIs equal to the SQL oracle' },
        )
        .catch((err: Error) => {
          throw new Error(`${err.message}\n${last.slice(0, 30).join('\n')}`);
        });
      const rows = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM raw_movie_bookings');
      expect(rows.rows[0]!.n).toBeGreaterThan(0);
    } finally {
      await client.end();
    }
    expect(await second.stop('SIGINT')).toBe(0);

    const deleted = await runCdc(['source', 'delete', '--execute'], {
      connection: ctx.connection,
      env: stackEnv,
    });
    expect(deleted.code).toBe(0);
    const check = new Client({ connectionString: source.databaseUrl });
    await check.connect();
    try {
      const slots = await check.query('SELECT slot_name FROM pg_replication_slots');
      expect(slots.rows).toEqual([]);
    } finally {
      await check.end();
    }
  }, 900_000);
});
