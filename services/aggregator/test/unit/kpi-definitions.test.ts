import Database from 'better-sqlite3';
import { loadSchema, type Booking, type BookingChange, type EnrichedBookingChange } from '@cdc/core';
import {
  EMPTY_SOURCE,
  EVENT_KPIS,
  RATIO_KPIS,
  ROW_KPIS,
  applySchema,
  evaluateKpis,
  kpiRow,
  measure,
  movieKeyOf,
  storedFromImage,
  type MovieState,
  type StateSource,
  type StoredBooking,
} from '@cdc/read-model';
import { CHURN_MIX, disorderedChanges, enrich, enrichImage, testSeed } from '@cdc/testing';
import {
  BatchApplier,
  ByteArena,
  ReplayApplier,
  replayHeadType,
  type BatchDelta,
  type ReplayHead,
} from '../../src';
import { GROUP_BY_SQL, ReferenceModel } from '../support/reference';

/**
 * The aggregator's hand-written KPI paths against the KPI definitions (@cdc/read-model's list,
 * executed plainly by `evaluateKpis`): the live applier (`contribute` plus the day/hour reference
 * counts, with retraction across batches) and the rebuild's replay. Also checks that the tests'
 * independent oracles (test/support/reference.ts) cover every KPI of the list.
 */
const SEED = testSeed('kpi definitions');
/** A random stream with duplicates, stale re-deliveries, moves, deletes and invalid records. */
const randomChanges = (n: number, liveBookings: number, movies: number): EnrichedBookingChange[] =>
  disorderedChanges(
    n,
    { seed: SEED, liveBookings, movies, mix: CHURN_MIX, dirtyRatio: 0.2 },
    { redeliveryRate: 0.1 },
  ).map((c) => enrich(c, { enrichedAtMs: 0 }));
const TS = Date.UTC(2025, 8, 10);
const ROW_COLUMNS = [...ROW_KPIS, ...RATIO_KPIS].map((d) => d.column);

const booking = (i: number, b: Partial<Booking>): Booking => ({
  booking_id: `B${i}`,
  customer_id: 'C1',
  movie_id: 'M1',
  booking_date: Date.UTC(2025, 8, 3, 10),
  status: 'BOOKED',
  ticket_count: 2,
  ticket_price: 1500,
  created_at: 0,
  updated_at: 0,
  version: 1,
  ...b,
});
const change = (op: BookingChange['op'], before: Booking | null, after: Booking | null) =>
  enrich(
    { event_id: `e-${op}`, op, before, after, ts_ms: TS, source: { name: 't', seq: 1 } },
    { enrichedAtMs: 0 },
  );

/** One booking for every combination that moves a row KPI: status, size, price, validity. */
const ROWS: Booking[] = [];
for (const status of ['BOOKED', 'CANCELLED', 'PENDING'])
  for (const ticket_count of [0, 1, 2, 4, 5])
    for (const ticket_price of [0, 999, 1000, 2000, 2001])
      for (const customer_id of ['C1', null])
        ROWS.push(booking(ROWS.length, { status, ticket_count, ticket_price, customer_id }));

const rowKpis = (delta: BatchDelta, key: string) => {
  const row = kpiRow((delta.movies.get(key)?.state as MovieState).counters, 0, 0);
  return Object.fromEntries(ROW_COLUMNS.map((c) => [c, row[c]]));
};

describe('the live applier against the KPI definitions', () => {
  test('for every definition, some rows count and some do not (a tombstone counts nowhere)', () => {
    const stored = ROWS.map((b) => storedFromImage(enrichImage(b, TS), 1, 0, 0, 'e', TS));
    stored.push(storedFromImage(enrichImage(booking(0, {}), TS), 2, 0, 1, 'e', TS));
    for (const d of ROW_KPIS) {
      const counted = stored.filter((r) => measure(d, [r]) !== 0).length;
      expect([d.column, counted > 0, counted < stored.length]).toEqual([d.column, true, true]);
    }
  });

  test.each(ROWS.map((b) => [b.booking_id, b] as const))(
    'one row (%s) sets exactly the columns the definitions count it in; its delete retracts them',
    (_id, b) => {
      const created = new BatchApplier(EMPTY_SOURCE);
      created.apply(change('c', null, b));
      const delta = created.finish();
      const expected = evaluateKpis([storedFromImage(enrichImage(b, TS), 1, 0, 0, 'e', TS)]);
      expect(rowKpis(delta, 'M1')).toEqual(expected);

      const both = new BatchApplier(EMPTY_SOURCE);
      both.apply(change('c', null, b));
      both.apply(change('d', b, null));
      expect(rowKpis(both.finish(), 'M1')).toEqual(evaluateKpis([]));
    },
  );

  test(`a random stream, batch by batch: every touched movie equals the definitions over its rows (seed ${SEED})`, () => {
    const stream = randomChanges(3000, 300, 6);
    const rows = new Map<string, StoredBooking>();
    const movies = new Map<string, MovieState>();
    const source: StateSource = { booking: (id) => rows.get(id), movie: (key) => movies.get(key) };
    for (const c of stream) {
      const applier = new BatchApplier(source);
      applier.apply(c);
      const delta = applier.finish();
      for (const r of delta.bookings) rows.set(r.image?.booking_id ?? '', r);
      for (const [key, m] of delta.movies) movies.set(key, m.state);
      for (const key of delta.movies.keys()) {
        const mine = [...rows.values()].filter((r) => movieKeyOf(r.movie_id) === key);
        expect([key, rowKpis(delta, key)]).toEqual([key, evaluateKpis(mine)]);
      }
    }
  });
});

test(`the rebuild's replay equals the definitions over the final rows (seed ${SEED})`, () => {
  const full = loadSchema('EnrichedBookingChange').type;
  const heads = replayHeadType();
  const resolver = heads.createResolver(full);
  const replay = new ReplayApplier(
    (bytes) => full.fromBuffer(bytes) as EnrichedBookingChange,
    new ByteArena(),
  );
  for (const c of randomChanges(5000, 400, 8)) {
    const bytes = full.toBuffer(c);
    replay.apply(heads.fromBuffer(bytes, resolver) as ReplayHead, bytes);
  }
  const delta = replay.finish();
  expect(delta.movies.size).toBeGreaterThan(5);
  for (const key of delta.movies.keys()) {
    const mine = delta.bookings.filter((r) => movieKeyOf(r.movie_id) === key);
    expect([key, rowKpis(delta, key)]).toEqual([key, evaluateKpis(mine)]);
  }
});

test("the tests' independent oracles cover every KPI of the definitions", () => {
  const db = new Database(':memory:');
  applySchema(db);
  const columns = db
    .prepare(GROUP_BY_SQL)
    .columns()
    .map((c) => c.name)
    .filter((c) => c !== 'movie_key');
  db.close();
  expect(columns.sort()).toEqual([...ROW_COLUMNS].sort());
  const model = new ReferenceModel();
  model.apply(change('c', null, booking(1, {})));
  expect(Object.keys(model.counters.get('M1') ?? {}).sort()).toEqual(EVENT_KPIS.map((d) => d.column).sort());
});
