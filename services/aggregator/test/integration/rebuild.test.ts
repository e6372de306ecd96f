import path from 'node:path';
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { UsageError, waitFor, type BookingChange, type EnrichedBookingChange } from '@cdc/core';
import {
  CHURN_MIX,
  changeStream,
  createTestContext,
  enrich,
  testSeed,
  withDisorder,
  type TestContext,
} from '@cdc/testing';
import { rebuildDatabase, startAggregator, type RebuildProgress } from '../../src';
import { kpiDifferences } from '../support/reference';
import {
  produceTransactional,
  silverEncoder,
  silverMessages,
  tempDir,
  testConfig,
  waitForOffsets,
} from '../support/kafka';

/**
 * Values that decode only in part: a long of 2^60 (beyond what a JavaScript number holds exactly)
 * makes avsc refuse to read it, while skipping it takes no look. The live path skips such a record
 * as undecodable; a rebuild, which decodes only heads, must skip exactly the same records.
 * Booking `id`: a create, an update whose `enriched_at` (a field no head reads) is 2^60, and a
 * cancellation; or, with `onlyCreate`, a create whose `after.created_at` is 2^60.
 */
function partlyDecodable(
  encode: (c: EnrichedBookingChange) => Buffer,
  id: string,
  onlyCreate = false,
): Buffer[] {
  const ts = 1_700_000_000_000;
  const at = { enrichedAtMs: ts };
  const image = (version: number, status: string, createdAt = ts) => ({
    booking_id: id,
    customer_id: 'C1',
    movie_id: 'M-UNSAFE',
    booking_date: ts,
    status,
    ticket_count: 2,
    ticket_price: 1200,
    created_at: createdAt,
    updated_at: ts,
    version,
  });
  const change = (
    seq: number,
    op: 'c' | 'u',
    before: ReturnType<typeof image> | null,
    after: ReturnType<typeof image>,
  ): BookingChange => ({
    event_id: `e-${id}-${seq}`,
    op,
    before,
    after,
    ts_ms: ts + seq,
    source: { name: 'test', seq },
  });
  /** `make(1)` encoded, with the one value that differs from `make(2)` replaced by 2^60. */
  const corrupt = (make: (n: number) => EnrichedBookingChange): Buffer => {
    const one = encode(make(1));
    const two = encode(make(2));
    const at = one.findIndex((b, i) => b !== two[i]);
    let n = 2n ** 61n; // zigzag of 2^60, 7 bits per byte
    const varint: number[] = [];
    while (n >= 0x80n) {
      varint.push(Number(n & 0x7fn) | 0x80);
      n >>= 7n;
    }
    varint.push(Number(n));
    return Buffer.concat([one.subarray(0, at), Buffer.from(varint), one.subarray(at + 1)]);
  };
  if (onlyCreate) return [corrupt((n) => enrich(change(1, 'c', null, image(1, 'BOOKED', n)), at))];
  return [
    encode(enrich(change(1, 'c', null, image(1, 'BOOKED')), at)),
    corrupt((n) => ({
      ...enrich(change(2, 'u', image(1, 'BOOKED'), image(2, 'CANCELLED')), at),
      enriched_at: n,
    })),
    encode(enrich(change(3, 'u', image(1, 'BOOKED'), image(3, 'CANCELLED')), at)),
  ];
}

/** `--rebuild` from silver equals the live database, swaps atomically, and respects the lock. */
describe('rebuild', () => {
  let ctx: TestContext;
  const tmp = tempDir('rebuild');
  const dbPath = path.join(tmp.dir, 'aggregator.db');

  beforeAll(async () => {
    ctx = await createTestContext({ partitions: 3, name: 'agg-rebuild' });
  });
  afterAll(async () => {
    await ctx.cleanup();
    tmp.remove();
  });

  const snapshot = (file: string) => {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    const cols = (db.prepare('SELECT * FROM movie_kpis LIMIT 1').columns() as { name: string }[])
      .map((c) => c.name)
      .filter((c) => c !== 'updated_at' && c !== 'snapshot_version');
    const out = {
      kpis: db.prepare(`SELECT ${cols.join(', ')} FROM movie_kpis ORDER BY movie_key`).all(),
      bookings: db.prepare('SELECT * FROM bookings ORDER BY booking_id').all(),
      days: db.prepare('SELECT * FROM movie_day_counts ORDER BY 1, 2').all(),
      hours: db.prepare('SELECT * FROM movie_hour_counts ORDER BY 1, 2').all(),
      offsets: db.prepare('SELECT * FROM applied_offsets ORDER BY 1, 2').all(),
      snapshotVersion: Number(
        db.prepare("SELECT value FROM meta WHERE key = 'snapshot_version'").pluck().get(),
      ),
      differences: kpiDifferences(db),
    };
    db.close();
    return out;
  };

  const expectSameTables = (actual: ReturnType<typeof snapshot>, expected: ReturnType<typeof snapshot>) => {
    for (const table of ['kpis', 'bookings', 'days', 'hours', 'offsets'] as const) {
      expect({ table, rows: actual[table] }).toEqual({ table, rows: expected[table] });
    }
  };

  test('a rebuild equals the live database and is swapped in only when complete', async () => {
    const encoder = await silverEncoder(ctx);
    const seed = testSeed('aggregator rebuild');
    const next = withDisorder(changeStream({ seed, liveBookings: 1500, movies: 60, mix: CHURN_MIX }), {
      seed: seed + 1,
    });
    const changes = Array.from({ length: 20_000 }, next);
    await produceTransactional(ctx, silverMessages(encoder, changes), 1000);
    // Undecodable bytes in silver are skipped by both.
    const producer = ctx.track(ctx.kafka.producer());
    await producer.connect();
    await producer.send({
      topic: ctx.topics.silver,
      messages: [{ key: 'x', value: Buffer.from([0, 0, 0, 0]) }],
    });

    const config = testConfig(ctx, dbPath);
    const live = await startAggregator(config, ctx.logger);
    try {
      await waitForOffsets(ctx, () => live.store.storedOffsets(ctx.topics.silver));
      // While the live aggregator holds the database, a rebuild is refused.
      await expect(rebuildDatabase(config, ctx.logger)).rejects.toThrow(UsageError);
    } finally {
      await live.stop();
    }
    const before = snapshot(dbPath);
    expect(before.differences).toEqual([]);
    expect(before.bookings.length).toBeGreaterThan(1000);

    const phases = new Set<string>();
    let last: RebuildProgress | undefined;
    const result = await rebuildDatabase(config, ctx.logger, {
      onProgress: (p) => {
        phases.add(p.phase);
        last = p;
      },
    });
    expect([...phases]).toEqual(['consume', 'write', 'swap']);
    expect(last).toMatchObject({ changes: 20_001 });
    expect(last?.offsetsDone).toBe(last?.offsetsTotal);
    expect(result).toMatchObject({ changes: 20_001, undecodable: 1, partitions: 3 });
    const after = snapshot(dbPath);
    expectSameTables(after, before);
    expect(after.snapshotVersion).toBeGreaterThan(before.snapshotVersion);
    expect(existsSync(`${dbPath}.rebuild-${process.pid}.tmp`)).toBe(false);

    // A live aggregator on the rebuilt database continues from its offsets and republishes every movie.
    const again = await startAggregator(config, ctx.logger);
    try {
      await produceTransactional(ctx, silverMessages(encoder, Array.from({ length: 2000 }, next)));
      await waitForOffsets(ctx, () => again.store.storedOffsets(ctx.topics.silver));
      // Gold is sent in the background (one request at a time): every version assigned gets published.
      await waitFor(
        () => {
          const v = again.store.snapshotVersions;
          return v.published === v.assigned;
        },
        { timeoutMs: 30_000, intervalMs: 50, what: 'every assigned snapshot version to be published' },
      );
      expect(kpiDifferences(again.store.db)).toEqual([]);
      // Records that decode only in part (a booking's newest change, and one in the middle of
      // another booking's changes): the live path skips them ...
      await producer.send({
        topic: ctx.topics.silver,
        messages: [
          ...partlyDecodable((c) => encoder.encode(c), 'B-UNSAFE-NEWEST', true),
          ...partlyDecodable((c) => encoder.encode(c), 'B-UNSAFE-MIDDLE'),
        ].map((value) => ({ key: 'B-UNSAFE', value })),
      });
      await waitForOffsets(ctx, () => again.store.storedOffsets(ctx.topics.silver));
    } finally {
      await again.stop();
    }
    // ... and so does the rebuild, which decodes only heads: the same tables, counters included.
    const live2 = snapshot(dbPath);
    const ids = live2.bookings.map((b) => (b as { booking_id: string }).booking_id);
    expect(ids).toContain('B-UNSAFE-MIDDLE');
    expect(ids).not.toContain('B-UNSAFE-NEWEST');
    const unsafe = live2.kpis.find((k) => (k as { movie_key: string }).movie_key === 'M-UNSAFE');
    expect(unsafe).toMatchObject({ new_bookings: 1, updates: 1, status_changes: 1, cancelled_bookings: 1 });
    const again2 = await rebuildDatabase(config, ctx.logger);
    expect(again2).toMatchObject({ changes: 22_005, undecodable: 3 });
    expectSameTables(snapshot(dbPath), live2);
  });
});
