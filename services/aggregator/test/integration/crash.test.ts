import { existsSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { sleep } from '@cdc/core';
import {
  CHURN_MIX,
  createTestContext,
  disorderedChanges,
  enrich,
  randomSuffix,
  seededRandom,
  startCdc,
  testSeed,
  uniqueGroupId,
  type CdcProcess,
  type TestContext,
} from '@cdc/testing';
import { ReferenceModel, bookingDifferences, counterDifferences, kpiDifferences } from '../support/reference';
import { produceTransactional, silverEncoder, silverEnd, silverMessages, tempDir } from '../support/kafka';

/**
 * The aggregator process (`node bin/cdc.js aggregate`, built dist) is SIGKILLed at random moments
 * while events flow into silver, and restarted each time. At the end the KPIs must be exact and
 * the stored offsets must be the end of the topic. Then `cdc aggregate --rebuild` must give the
 * same database.
 */
const KILLS = 10;
const EVENTS = 48_000;
/** How long events keep flowing (about the length of the kill loop). */
const FLOW_MS = 70_000;

describe('aggregator killed with SIGKILL while events flow', () => {
  let ctx: TestContext;
  const tmp = tempDir('crash');
  const dbPath = path.join(tmp.dir, 'aggregator.db');
  const groupId = uniqueGroupId('agg-crash');

  beforeAll(async () => {
    ctx = await createTestContext({ partitions: 3, name: 'agg-crash' });
  });
  afterAll(async () => {
    await ctx.cleanup(); // kills any aggregator still running
    tmp.remove();
  });

  /** `cdc <args>` on the test's topics and group, logging at info (the test waits for a log line). */
  const cdc = (args: string[]): CdcProcess =>
    ctx.track(
      startCdc(args, {
        connection: ctx.connection,
        env: { AGGREGATOR_GROUP_ID: groupId, AGGREGATOR_SESSION_TIMEOUT_MS: '6000', LOG_LEVEL: 'info' },
      }),
    );

  const storedOffsets = (): Map<number, number> => {
    if (!existsSync(dbPath)) return new Map();
    const db = new Database(dbPath, { readonly: true, fileMustExist: true });
    try {
      const rows = db
        .prepare('SELECT partition, next_offset FROM applied_offsets WHERE topic = ?')
        .all(ctx.topics.silver) as { partition: number; next_offset: number }[];
      return new Map(rows.map((r) => [r.partition, r.next_offset]));
    } catch {
      return new Map(); // schema not created yet
    } finally {
      db.close();
    }
  };
  const applied = () => [...storedOffsets().values()].reduce((a, b) => a + b, 0);

  test(`${KILLS} SIGKILLs at random moments; final KPIs exact, offsets at the end; rebuild equals live`, async () => {
    const seed = testSeed('aggregator crash');
    const random = seededRandom(seed + 10); // when to kill
    const rnd = () => random.float();
    const encoder = await silverEncoder(ctx);
    const changes = disorderedChanges(
      EVENTS,
      { seed, liveBookings: 2000, movies: 40, mix: CHURN_MIX },
      { redeliveryRate: 0.1 },
    );
    const model = new ReferenceModel();
    for (const c of changes) model.apply(enrich(c, { enrichedAtMs: 0 }));
    const messages = silverMessages(encoder, changes);

    // Events flow into silver (transactions of 200, paced) during the whole kill loop.
    let produced = 0;
    let flowing = true;
    const producing = (async () => {
      const producer = ctx.track(
        ctx.kafka.producer({
          transactionalId: `test-crash-${randomSuffix()}`,
          idempotent: true,
          maxInFlightRequests: 1,
        }),
      );
      await producer.connect();
      const t0 = Date.now();
      for (let i = 0; i < messages.length; i += 200) {
        await produceTransactional(ctx, messages.slice(i, i + 200), 200, producer);
        produced = i + 200;
        await sleep(Math.max(0, t0 + (produced / messages.length) * FLOW_MS - Date.now()));
      }
      flowing = false;
    })();

    let killedWhileApplying = 0;
    for (let k = 0; k < KILLS; k++) {
      const child = cdc(['aggregate', '--db', dbPath, '--ops-port', '0']);
      if (k % 3 !== 2) {
        // While it works: once it has joined and committed a batch (events keep flowing), a little later.
        const from = applied();
        await child.waitFor(
          () => child.stderr().includes('partitions assigned') && (applied() > from || flowing === false),
          {
            timeoutMs: 60_000,
            what: `restart ${k} to join the group and apply`,
          },
        );
        await sleep(Math.floor(rnd() * rnd() * 1000)); // skewed early: mostly while catching up
        if (applied() > from) killedWhileApplying += 1;
      } else {
        await sleep(Math.floor(rnd() * 4000)); // anywhere in start-up
      }
      child.signal('SIGKILL');
      await child.expectExit(null);
    }
    await producing;
    expect(produced).toBeGreaterThanOrEqual(EVENTS);
    expect(killedWhileApplying).toBeGreaterThanOrEqual(5);

    const last = cdc(['aggregate', '--db', dbPath, '--ops-port', '0']);
    const end = await silverEnd(ctx);
    await last.waitFor(() => [...end].every(([p, e]) => (storedOffsets().get(p) ?? 0) >= e), {
      timeoutMs: 90_000,
      what: 'the last aggregator to reach the end of silver',
    });
    last.signal('SIGTERM');
    await last.expectExit(0);

    const db = new Database(dbPath, { readonly: true, fileMustExist: true });
    expect(storedOffsets()).toEqual(end);
    expect(kpiDifferences(db)).toEqual([]);
    expect(counterDifferences(db, model)).toEqual([]);
    expect(bookingDifferences(db, model)).toEqual([]);
    const meta = Object.fromEntries(
      db.prepare('SELECT key, value FROM meta').raw().all() as [string, string][],
    );
    expect(meta.published_snapshot_version).toBe(meta.snapshot_version); // nothing left unpublished
    const kpiColumns = (db.prepare('SELECT * FROM movie_kpis LIMIT 1').columns() as { name: string }[])
      .map((c) => c.name)
      .filter((c) => c !== 'updated_at' && c !== 'snapshot_version');
    const tables = [
      `SELECT ${kpiColumns.join(', ')} FROM movie_kpis ORDER BY movie_key`,
      'SELECT * FROM bookings ORDER BY booking_id',
      'SELECT * FROM movie_day_counts ORDER BY 1, 2',
      'SELECT * FROM movie_hour_counts ORDER BY 1, 2',
      'SELECT * FROM applied_offsets ORDER BY 1, 2',
    ];
    const live = tables.map((sql) => db.prepare(sql).all());
    db.close();

    // The rebuild (CLI) from silver gives the same database.
    const rebuild = cdc(['aggregate', '--rebuild', '--db', dbPath]);
    await rebuild.expectExit(0);
    const rebuilt = new Database(dbPath, { readonly: true, fileMustExist: true });
    tables.forEach((sql, i) => expect(rebuilt.prepare(sql).all()).toEqual(live[i]));
    rebuilt.close();
  }, 360_000);
});
