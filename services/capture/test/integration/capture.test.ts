import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Client } from 'pg';
import { waitFor } from '@cdc/core';
import { KPI_DEFINITIONS } from '@cdc/read-model';
import { createTestContext, runCdc, seededRandom, startCdc, testSeed, type TestContext } from '@cdc/testing';
import { slotsOf, startSourceFixture, type SourceFixture, type TestDatabase } from './source-fixture';
import { oracle, Workload, type KpiRow } from './workload';

/**
 * Capture from a real PostgreSQL through a real Kafka Connect worker and the Debezium connector,
 * the real capture stage, enricher and aggregator: once the pipeline is idle, every KPI of every
 * movie equals the same KPI computed by SQL over raw_movie_bookings (the source is the oracle).
 */
const COLUMNS = ['movie_key', ...KPI_DEFINITIONS.map((d) => d.column)];

const normalise = (r: KpiRow | undefined): Record<string, number | string | null> =>
  Object.fromEntries(
    COLUMNS.map((c) => {
      const v = r?.[c];
      return [c, c === 'movie_key' || v === null || v === undefined ? (v ?? null) : Number(v)];
    }),
  );

function readModel(file: string): Map<string, KpiRow> {
  let conn: Database.Database | undefined;
  try {
    conn = new Database(file, { readonly: true, fileMustExist: true });
    const rows = conn.prepare('SELECT * FROM movie_kpis').all() as KpiRow[];
    return new Map(rows.map((r) => [String(r.movie_key), r]));
  } catch {
    return new Map();
  } finally {
    conn?.close();
  }
}

/** Differences between the read model and the oracle; a movie the source no longer has must read all zeros. */
function differences(actual: Map<string, KpiRow>, expected: Map<string, KpiRow>): string[] {
  const out: string[] = [];
  for (const key of new Set([...actual.keys(), ...expected.keys()])) {
    const a = normalise(actual.get(key));
    const e = expected.has(key) ? normalise(expected.get(key)) : normalise({ movie_key: key });
    for (const c of COLUMNS.slice(1)) {
      const want =
        e[c] ??
        (expected.has(key)
          ? null
          : c.endsWith('_percent') || c.startsWith('avg') || c === 'data_quality_score'
            ? null
            : 0);
      if (a[c] !== want) out.push(`${key}.${c}: pipeline ${String(a[c])}, source ${String(want)}`);
    }
  }
  return out;
}

describe('capture from PostgreSQL', () => {
  let source: SourceFixture;
  let ctx: TestContext;
  let db: TestDatabase;
  let dir: string;

  beforeAll(async () => {
    source = await startSourceFixture();
  });
  afterAll(async () => {
    await source.close();
  });
  beforeEach(async () => {
    ctx = await createTestContext({ name: 'capture' });
    dir = mkdtempSync(path.join(os.tmpdir(), 'cdc-capture-'));
  });
  afterEach(async () => {
    // A test that failed before its own `source delete` leaves a connector streaming from its
    // database, whose active slot would keep the database from being dropped.
    if (db) await cdc(['source', 'delete', '--execute']).catch(() => undefined);
    await ctx.cleanup();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const env = () => ({ DATABASE_URL: db.url, CONNECT_URL: source.connectUrl });
  const cdc = (args: string[]) => runCdc(args, { connection: ctx.connection, env: env() });
  const start = (args: string[]) => ctx.track(startCdc(args, { connection: ctx.connection, env: env() }));

  async function expectKpisEqualSource(file: string, workload: Workload, timeoutMs = 180_000): Promise<void> {
    let last: string[] = [];
    await waitFor(
      async () => {
        last = differences(readModel(file), await oracle(db.client, workload.events));
        return last.length === 0;
      },
      { timeoutMs, intervalMs: 1000, what: 'KPIs equal to the SQL oracle' },
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${last.slice(0, 30).join('\n')}`);
    });
  }

  it('snapshot of existing rows, then a random workload: every KPI equals SQL over the source; delete leaves no slot', async () => {
    const seed = testSeed('capture workload');
    db = await source.createDatabase();
    const workload = new Workload(db.client, seededRandom(seed));
    workload.countEvents = false;
    await workload.run(30);

    const plan = await cdc(['source', 'create']);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain('plan (run again with --execute');
    expect(await slotsOf(db.client, db.name)).toEqual([]);
    expect((await cdc(['source', 'create', '--execute'])).code).toBe(0);

    const file = path.join(dir, 'aggregator.db');
    start(['capture', '--ops-port', '0']);
    start(['enrich', '--ops-port', '0']);
    start(['aggregate', '--db', file, '--ops-port', '0']);
    // The snapshot's rows are no events; streaming then changes them and adds more.
    workload.countEvents = true;
    await workload.run(60);
    await expectKpisEqualSource(file, workload);

    const status = await cdc(['source', 'status']);
    expect(status.stdout).toMatch(/RUNNING/);
    expect((await cdc(['source', 'delete', '--execute'])).code).toBe(0);
    expect(await slotsOf(db.client, db.name)).toEqual([]);
    // Its waits (the connector up to 120 s, the KPIs up to 180 s) must fit in the test's own time,
    // so a slow run reports which KPIs differ instead of jest's bare timeout.
  }, 480_000);

  it.each([
    ['an unreachable database', { port: '1' }, /not reachable/],
    ['wrong credentials', { password: 'wrong' }, /user or password was refused/],
    ['a missing table', { table: false }, /raw_movie_bookings does not exist/],
    [
      'a table without REPLICA IDENTITY FULL',
      { replicaIdentityFull: false },
      /ALTER TABLE public\.raw_movie_bookings REPLICA IDENTITY FULL;/,
    ],
    ['Kafka Connect not running', { connectUrl: 'http://127.0.0.1:1' }, /Kafka Connect is not reachable/],
  ] as const)('%s: exit 2, a message naming the fix, nothing created', async (_what, bad, message) => {
    db = await source.createDatabase({
      table: !('table' in bad),
      replicaIdentityFull: !('replicaIdentityFull' in bad),
    });
    const url = new URL(db.url);
    if ('port' in bad) url.port = bad.port;
    if ('password' in bad) url.password = bad.password;
    const r = await runCdc(['source', 'create', '--execute'], {
      connection: ctx.connection,
      env: {
        DATABASE_URL: url.toString(),
        CONNECT_URL: 'connectUrl' in bad ? bad.connectUrl : source.connectUrl,
      },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(await slotsOf(db.client, db.name)).toEqual([]);
    const status = await cdc(['source', 'status', '--json']);
    expect(JSON.parse(status.stdout)).toMatchObject({ connector: null, slot: null });
  });

  // Debezium commits no position before its snapshot completes: killed during the snapshot, it reads
  // the whole table again (those rows arrive twice, as snapshot reads the version rule counts once),
  // and changes made before the new snapshot's point are in it, not events. So the snapshot is
  // awaited (the KPIs equal the table) before the workload whose events are counted.
  it('Connect SIGKILLed during the snapshot and during streaming, PostgreSQL restarted: KPIs still equal the source', async () => {
    const seed = testSeed('capture faults');
    db = await source.createDatabase();
    await db.client.query(
      `INSERT INTO raw_movie_bookings (booking_id, customer_id, movie_id, booking_date, status, ticket_count, ticket_price)
       SELECT 's' || i, 'C' || (i % 50), 'M' || (1 + i % 6), now() - make_interval(days => 1 + i % 30, hours => i % 24),
              CASE WHEN i % 7 = 0 THEN 'CANCELLED' ELSE 'BOOKED' END, 1 + i % 6, (500 + i % 2500) / 100.0
       FROM generate_series(1, 20000) AS i`,
    );
    expect((await cdc(['source', 'create', '--execute'])).code).toBe(0);
    const file = path.join(dir, 'aggregator.db');
    const capture = start(['capture', '--ops-port', '0']);
    start(['enrich', '--ops-port', '0']);
    start(['aggregate', '--db', file, '--ops-port', '0']);
    const sourceTopic = `${ctx.connection.topicPrefix}movies.source.raw_movie_bookings`;
    const captured = async () =>
      (await ctx.admin.fetchTopicOffsets(sourceTopic)).reduce((n, p) => n + Number(p.high), 0);
    await waitFor(async () => (await captured()) > 0, { timeoutMs: 120_000, what: 'the snapshot to begin' });
    await source.killConnect(); // during the snapshot (20,000 rows)
    await source.startConnect();
    const workload = new Workload(db.client, seededRandom(seed));
    await expectKpisEqualSource(file, workload, 300_000);

    await workload.run(20);
    await source.killConnect(); // during streaming
    await workload.run(20); // while Connect is down: the slot keeps these
    await source.startConnect();
    await workload.run(10);
    await db.client.end();
    // PostgreSQL restarted under a streaming connector; if its task fails for good (Connect never
    // restarts a failed task), capture restarts it.
    source.restartPostgres();
    db.client = new Client({ connectionString: db.url });
    await db.client.connect();
    workload.db = db.client;
    await workload.run(20);
    await expectKpisEqualSource(file, workload, 300_000);
    expect(capture.stderr()).not.toMatch(/"level":(50|60|"error"|"fatal")/);
    expect((await cdc(['source', 'delete', '--execute'])).code).toBe(0);
    expect(await slotsOf(db.client, db.name)).toEqual([]);
  }, 900_000);
});
