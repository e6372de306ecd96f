import path from 'node:path';
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { testing, UsageError, type BookingChange, type EnrichedBookingChange } from '@cdc/core';
import { createDeriver } from '@cdc/enricher';
import { randomChanges, rebuildDatabase, startAggregator, type RebuildProgress } from '../../src';
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
 * A silver record that decodes only in part: a create whose created_at is 2^60 (beyond what a
 * JavaScript number holds exactly: avsc refuses to read it, and skips it without a look). Its head
 * decodes, its full change does not: the live path skips it as undecodable, and so must a rebuild.
 */
function partlyDecodable(encode: (c: EnrichedBookingChange) => Buffer): Buffer {
  const derive = createDeriver('UTC');
  const booking = (createdAt: number): BookingChange => ({
    event_id: 'e-unsafe-long',
    op: 'c',
    before: null,
    after: {
      booking_id: 'B-UNSAFE-LONG',
      customer_id: 'C1',
      movie_id: 'M-UNSAFE',
      booking_date: 1_700_000_000_000,
      status: 'CONFIRMED',
      ticket_count: 2,
      ticket_price: 1200,
      created_at: createdAt,
      updated_at: 1_700_000_000_000,
      version: 1,
    },
    ts_ms: 1_700_000_000_000,
    source: { name: 'test', seq: 1 },
  });
  const one = encode(derive.change(booking(1), 1_700_000_000_000));
  const two = encode(derive.change(booking(2), 1_700_000_000_000));
  const at = one.findIndex((b, i) => b !== two[i]);
  // created_at as a zigzag varint: 2^60 → 2^61, 7 bits per byte.
  let n = 2n ** 61n;
  const varint: number[] = [];
  while (n >= 0x80n) {
    varint.push(Number(n & 0x7fn) | 0x80);
    n >>= 7n;
  }
  varint.push(Number(n));
  return Buffer.concat([one.subarray(0, at), Buffer.from(varint), one.subarray(at + 1)]);
}

/** `--rebuild` from silver equals the live database, swaps atomically, and respects the lock. */
describe('rebuild', () => {
  let ctx: testing.TestContext;
  const tmp = tempDir('rebuild');
  const dbPath = path.join(tmp.dir, 'aggregator.db');

  beforeAll(async () => {
    ctx = await testing.createTestContext({ partitions: 3, name: 'agg-rebuild' });
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
    const changes = randomChanges(20_000, { seed: 5, bookings: 1500, movies: 60 });
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
    expect(result).toMatchObject({ changes: 20_001, undecodable: 1, partitions: 3, decoding: 'heads' });
    const after = snapshot(dbPath);
    expectSameTables(after, before);
    expect(after.snapshotVersion).toBeGreaterThan(before.snapshotVersion);
    expect(existsSync(`${dbPath}.rebuild-${process.pid}.tmp`)).toBe(false);

    // A live aggregator on the rebuilt database continues from its offsets and republishes every movie.
    const again = await startAggregator(config, ctx.logger);
    try {
      await produceTransactional(
        ctx,
        silverMessages(encoder, randomChanges(2000, { seed: 6, bookings: 1500 })),
      );
      await waitForOffsets(ctx, () => again.store.storedOffsets(ctx.topics.silver));
      const v = again.store.snapshotVersions;
      expect(v.published).toBe(v.assigned);
      expect(kpiDifferences(again.store.db)).toEqual([]);
      // A booking's newest change that decodes only in part: live skips it ...
      await producer.send({
        topic: ctx.topics.silver,
        messages: [{ key: 'B-UNSAFE-LONG', value: partlyDecodable((c) => encoder.encode(c)) }],
      });
      await waitForOffsets(ctx, () => again.store.storedOffsets(ctx.topics.silver));
    } finally {
      await again.stop();
    }
    // ... and the rebuild finds out when it decodes the final rows, then reads silver again in full.
    const live2 = snapshot(dbPath);
    expect(live2.bookings.some((b) => (b as { booking_id: string }).booking_id === 'B-UNSAFE-LONG')).toBe(
      false,
    );
    const full = await rebuildDatabase(config, ctx.logger);
    expect(full).toMatchObject({ changes: 22_002, undecodable: 2, decoding: 'full' });
    expectSameTables(snapshot(dbPath), live2);
  });
});
