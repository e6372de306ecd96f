import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { loadSchema, type EnrichedBookingChange } from '@cdc/core';
import { CHURN_MIX, disorderedChanges, enrich, seededRandom, testSeed } from '@cdc/testing';
import { EMPTY_SOURCE, KPI_DEFINITIONS, filteredKpis, storedKpis } from '@cdc/read-model';
import {
  AggregatorStore,
  BatchApplier,
  ByteArena,
  ReplayApplier,
  replayHeadType,
  type BatchDelta,
  type ReplayHead,
} from '../../src';
import { ReferenceModel, bookingDifferences, counterDifferences, kpiDifferences } from '../support/reference';

/**
 * The differential test: a long random stream (duplicates, stale versions, movie moves, deletes,
 * re-creates, invalid records) applied in random batches through the SQLite store must leave
 * movie_kpis equal to a plain GROUP BY over the current rows, column for column.
 */
const EVENTS = 60_000;
const SEED = testSeed('aggregator differential');

function stream(seed: number, movies = 30): EnrichedBookingChange[] {
  return disorderedChanges(
    EVENTS,
    { seed, liveBookings: 3000, movies, mix: CHURN_MIX, dirtyRatio: 0.08 },
    { redeliveryRate: 0.15 },
  ).map((c) => enrich(c, { enrichedAtMs: 0 }));
}

/** Applies the stream in random batches; `reopen` re-opens the store (cold caches) every few batches. */
function applyLive(
  open: () => AggregatorStore,
  changes: EnrichedBookingChange[],
  seed: number,
  reopenEvery = 0,
): AggregatorStore {
  const random = seededRandom(seed);
  const rnd = () => random.float();
  let store = open();
  let offset = 0;
  let batches = 0;
  while (offset < changes.length) {
    if (reopenEvery > 0 && ++batches % reopenEvery === 0) {
      store.close();
      store = open();
    }
    const n = 1 + Math.floor(rnd() * (rnd() < 0.1 ? 2000 : 200));
    const slice = changes.slice(offset, offset + n);
    // Some batches are re-delivered from an earlier offset: the stored offset filters them.
    const from = rnd() < 0.05 ? Math.max(0, offset - Math.floor(rnd() * 100)) : offset;
    const records = changes
      .slice(from, offset + slice.length)
      .map((change, i) => ({ offset: from + i, change }));
    store.applyBatch({ topic: 'silver', partition: 0, records, nextOffset: offset + slice.length });
    offset += slice.length;
  }
  return store;
}

const tableRows = (db: Database.Database, sql: string) => db.prepare(sql).all();

// Few movies (every hour of the day taken), in memory with warm caches; many movies (sparse days
// and hours), in a temporary file re-opened every 20 batches with a tiny booking cache.
describe.each([
  [SEED, 30, 'memory'],
  [SEED + 10, 400, 'file'],
])('differential (seed %i, %i movies, %s)', (seed, movies, where) => {
  const changes = stream(seed, movies);
  const model = new ReferenceModel();
  for (const c of changes) model.apply(c);
  const dir = where === 'file' ? mkdtempSync(path.join(tmpdir(), 'cdc-differential-')) : '';
  const live =
    where === 'file'
      ? applyLive(
          () => AggregatorStore.open(path.join(dir, 'a.db'), { bookingCacheSize: 50 }),
          changes,
          seed + 100,
          20,
        )
      : applyLive(() => AggregatorStore.open(':memory:'), changes, seed + 100);

  afterAll(() => {
    live.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the stream exercises every case', () => {
    const ops = new Set(changes.map((c) => c.op));
    expect([...ops].sort()).toEqual(['c', 'd', 'r', 'u']);
    expect(model.skipped).toBeGreaterThan(EVENTS * 0.1);
    expect(changes.filter((c) => c.after && !c.after.is_valid_booking).length).toBeGreaterThan(100);
    expect(
      changes.filter((c) => c.op === 'u' && c.before?.movie_id !== c.after?.movie_id).length,
    ).toBeGreaterThan(100);
  });

  test('every movie_kpis column equals a GROUP BY over the current rows', () => {
    expect(kpiDifferences(live.db)).toEqual([]);
    const rows = live.db.prepare('SELECT COUNT(*) FROM movie_kpis').pluck().get() as number;
    expect(rows).toBeGreaterThan(25);
    const sparse = live.db
      .prepare('SELECT COUNT(*) FROM movie_kpis WHERE active_hours BETWEEN 1 AND 20')
      .pluck()
      .get();
    if (movies > 100) expect(sparse).toBeGreaterThan(50);
  });

  test("the UI's KPIs over every current row (SQL generated from the definitions) equal movie_kpis", () => {
    const stored = new Map(storedKpis(live.db, {}).map((r) => [r.movie_key, r]));
    const filtered = filteredKpis(live.db, {});
    expect(filtered.length).toBeGreaterThan(25);
    for (const f of filtered) {
      const s = stored.get(f.movie_key);
      for (const { column } of KPI_DEFINITIONS) {
        expect([f.movie_key, column, f[column]]).toEqual([f.movie_key, column, s?.[column]]);
      }
    }
  });

  test('event counters equal an independent count, and current rows the reference', () => {
    expect(counterDifferences(live.db, model)).toEqual([]);
    expect(bookingDifferences(live.db, model)).toEqual([]);
    const applied = live.db.prepare('SELECT SUM(applied), SUM(skipped) FROM batch_history').raw().get();
    expect(applied).toEqual([model.applied, model.skipped]);
  });

  /**
   * The rebuild's way: heads decoded from the Avro bytes, full changes decoded for final rows
   * only. A tiny arena makes it compact its bytes many times.
   */
  function replay(): { apply(c: EnrichedBookingChange): void; finish(): BatchDelta } {
    const full = loadSchema('EnrichedBookingChange').type;
    const heads = replayHeadType();
    const resolver = heads.createResolver(full);
    const arena = new ByteArena(256, 0);
    const applier = new ReplayApplier((b) => full.fromBuffer(b) as EnrichedBookingChange, arena);
    return {
      apply: (c) => {
        const bytes = full.toBuffer(c);
        applier.apply(heads.fromBuffer(bytes, resolver) as ReplayHead, bytes);
      },
      finish: () => {
        const delta = applier.finish();
        expect(arena.stats.compactions).toBeGreaterThan(10);
        return delta;
      },
    };
  }

  test.each([
    ["the rebuild's replay", replay],
    ['one live batch on an empty source', () => new BatchApplier(EMPTY_SOURCE)],
  ])('%s gives the same database as live', (_name, create) => {
    const rebuilt = AggregatorStore.open(':memory:');
    const applier = create();
    for (const c of changes) applier.apply(c);
    rebuilt.db.transaction(() =>
      rebuilt.writer.writeDelta(applier.finish(), 0, [
        { topic: 'silver', partition: 0, nextOffset: changes.length },
      ]),
    )();
    const cols = live.db
      .prepare('SELECT * FROM movie_kpis')
      .columns()
      .map((c) => c.name)
      .filter((c) => c !== 'updated_at' && c !== 'snapshot_version')
      .join(', ');
    for (const sql of [
      `SELECT ${cols} FROM movie_kpis ORDER BY movie_key`,
      'SELECT * FROM bookings ORDER BY booking_id',
      'SELECT * FROM movie_day_counts ORDER BY 1, 2',
      'SELECT * FROM movie_hour_counts ORDER BY 1, 2',
      'SELECT * FROM applied_offsets',
    ]) {
      expect(tableRows(rebuilt.db, sql)).toEqual(tableRows(live.db, sql));
    }
    rebuilt.close();
  });
});

test('a batch that fails part-way leaves the store unchanged', () => {
  const store = AggregatorStore.open(':memory:');
  const changes = stream(SEED + 20).slice(0, 500);
  store.applyBatch({
    topic: 's',
    partition: 0,
    records: changes.slice(0, 200).map((change, offset) => ({ offset, change })),
    nextOffset: 200,
  });
  const before = store.db.prepare('SELECT * FROM movie_kpis ORDER BY movie_key').all();
  const broken = changes.slice(200).map((change, i) => ({ offset: 200 + i, change }));
  (broken[150] as { change: unknown }).change = { op: 'u', after: { booking_id: 'x' } }; // throws mid-batch
  expect(() => store.applyBatch({ topic: 's', partition: 0, records: broken, nextOffset: 500 })).toThrow();
  expect(store.db.prepare('SELECT * FROM movie_kpis ORDER BY movie_key').all()).toEqual(before);
  expect(store.storedOffsets('s').get(0)).toBe(200);
  // The caches were dropped with the failed transaction: the re-delivered batch applies exactly.
  const rest = changes.slice(200).map((change, i) => ({ offset: 200 + i, change }));
  store.applyBatch({ topic: 's', partition: 0, records: rest, nextOffset: 500 });
  expect(kpiDifferences(store.db)).toEqual([]);
  store.close();
});
