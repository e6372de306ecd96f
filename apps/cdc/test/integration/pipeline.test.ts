import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { createDecoder, createRegistryClient, loadSchema, waitFor, type MovieKpis } from '@cdc/core';
import { createTestContext, readUntil, startCdc, type TestContext } from '@cdc/testing';

/**
 * The whole pipeline, as users run it: `cdc produce --scenario seed` into bronze, the real
 * `cdc enrich` and `cdc aggregate` processes, and the result compared with the contract's
 * worked example — in SQLite, through the dashboard's API (`cdc ui`) and on the gold topic.
 * CI also runs it on each supported Node.js line (.ci/node-lines): the smallest test of every
 * stage, the native SQLite binding included.
 */
const EXPECTED = [
  // movie, total, active, cancelled, active rev, lost rev, size, price, cancel %, status_changes
  ['M001', 1, 0, 1, 0, 3000, 'GROUP', 'STANDARD', 100, 1],
  ['M002', 1, 1, 0, 1200, 0, 'SINGLE', 'STANDARD', 0, 0],
  ['M003', 1, 0, 1, 0, 6000, 'GROUP', 'STANDARD', 100, 1],
  ['M004', 1, 1, 0, 10000, 0, 'GROUP', 'PREMIUM', 0, 0],
  ['M005', 1, 1, 0, 1000, 0, 'SINGLE', 'STANDARD', 0, 0],
] as const;

describe('the pipeline end to end', () => {
  let ctx: TestContext;
  let dir: string;

  /** A `cdc` process on this test's topics, killed by ctx.cleanup(). */
  const start = (args: string[]) => ctx.track(startCdc(args, { connection: ctx.connection }));

  beforeEach(async () => {
    ctx = await createTestContext({ name: 'e2e' });
    dir = mkdtempSync(path.join(os.tmpdir(), 'cdc-e2e-'));
  });
  afterEach(async () => {
    await ctx.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('turns the seed scenario into exactly the contract worked example', async () => {
    const db = path.join(dir, 'aggregator.db');
    await start(['produce', '--scenario', 'seed', '--no-progress']).expectExit(0);
    start(['enrich', '--ops-port', '0']);
    const aggregator = start(['aggregate', '--db', db, '--ops-port', '0']);

    type Row = Record<string, number | string | null>;
    const rows = await aggregator.waitFor(
      () => {
        let conn: Database.Database | undefined;
        try {
          conn = new Database(db, { readonly: true, fileMustExist: true });
          const r = conn.prepare('SELECT * FROM movie_kpis ORDER BY movie_key').all() as Row[];
          return r.length === 5 && r.reduce((n, x) => n + Number(x.status_changes), 0) === 2 ? r : undefined;
        } catch {
          return undefined;
        } finally {
          conn?.close();
        }
      },
      { timeoutMs: 60_000, what: 'five movies with both cancellations applied' },
    );
    const table = rows.map((r) => [
      r.movie_key,
      r.total_bookings,
      r.active_bookings,
      r.cancelled_bookings,
      r.total_active_revenue_cents,
      r.total_lost_revenue_cents,
      r.single_bookings ? 'SINGLE' : r.group_bookings ? 'GROUP' : 'LARGE_GROUP',
      r.budget_bookings ? 'BUDGET' : r.standard_bookings ? 'STANDARD' : 'PREMIUM',
      r.cancellation_rate_percent,
      r.status_changes,
    ]);
    expect(table).toEqual(EXPECTED);
    for (const r of rows) {
      expect(r).toMatchObject({
        invalid_bookings: 0,
        data_quality_score: 100,
        new_bookings: 1,
        booking_days: 1,
        active_hours: 1,
      });
    }

    // The dashboard's API serves the same numbers.
    const ui = start(['ui', '--db', db, '--port', '0']);
    const [, url] = await ui.waitForOutput(/dashboard at (http:\/\/\S+)/, {
      stream: 'stdout',
      timeoutMs: 60_000,
    });
    const api = (await (await fetch(`${url}/api/kpis`)).json()) as { movies: Row[] };
    expect(
      api.movies.map((m) => [
        m.movie_key,
        m.total_bookings,
        m.cancelled_bookings,
        m.total_active_revenue_cents,
        m.total_lost_revenue_cents,
      ]),
    ).toEqual(EXPECTED.map((e) => [e[0], e[1], e[3], e[4], e[5]]));

    const conn = new Database(db, { readonly: true });
    const times = conn.prepare('SELECT DISTINCT booking_hour, day_of_week FROM bookings').all();
    conn.close();
    expect(times).toEqual([{ booking_hour: 10, day_of_week: 3 }]);

    // Gold: the latest snapshot of every movie equals its database row.
    const decoder = createDecoder<MovieKpis>(
      createRegistryClient(ctx.connection.registryUrl),
      loadSchema('MovieKpis').type,
    );
    const latestGold = async () => {
      const ends = await ctx.admin.fetchTopicOffsets(ctx.topics.gold);
      const count = ends.reduce((n, p) => n + Number(p.high), 0);
      const messages = count === 0 ? [] : await readUntil(ctx, ctx.topics.gold, (m) => m.length >= count);
      const latest = new Map<string, MovieKpis>();
      for (const m of messages) {
        const k = await decoder.decode(m.value);
        const prev = latest.get(m.key!.toString());
        if (!prev || prev.snapshot_version < k.snapshot_version) latest.set(m.key!.toString(), k);
      }
      return latest;
    };
    const matches = (latest: Map<string, MovieKpis>) =>
      rows.every((r) => {
        const k = latest.get(String(r.movie_key));
        return (
          k !== undefined &&
          k.total_bookings === r.total_bookings &&
          k.cancelled_bookings === r.cancelled_bookings &&
          k.total_active_revenue_cents === r.total_active_revenue_cents &&
          k.total_lost_revenue_cents === r.total_lost_revenue_cents &&
          k.status_changes === r.status_changes
        );
      });
    await waitFor(async () => matches(await latestGold()), {
      timeoutMs: 60_000,
      intervalMs: 1000,
      what: 'gold snapshots equal to the database',
    });
  });
});
