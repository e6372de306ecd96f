import Database from 'better-sqlite3';
import { NO_MOVIE_KEY, type EnrichedBooking } from '@cdc/core';
import { seededRandom, testSeed } from '@cdc/testing';
import {
  EVENT_KPIS,
  KPI_DEFINITIONS,
  RATIO_KPIS,
  ReadModelWriter,
  applySchema,
  emptyCounters,
  evaluateKpis,
  filteredKpis,
  movieKeyOf,
  ratio,
  ratioSql,
  storedFromImage,
  storedKpis,
  summary,
  type Filters,
  type KpiDelta,
  type StoredBooking,
  type TouchedMovie,
} from '../../src';

/**
 * The SQL generated from the KPI definitions against the stored movie_kpis and against the
 * definitions executed plainly (`evaluateKpis`), over a small random database: the UI's KPIs
 * under filters mean what the aggregator's KPIs mean.
 */
const SEED = testSeed('read-model KPIs as SQL');

/** Floats in [0, 1) from the tests' seeded source. */
function prng(seed: number): () => number {
  const random = seededRandom(seed);
  return () => random.float();
}

const STATUS: Record<string, EnrichedBooking['booking_status_category']> = {
  BOOKED: 'ACTIVE',
  CANCELLED: 'INACTIVE',
  PENDING: 'UNKNOWN',
};
const sizeOf = (n: number): EnrichedBooking['booking_size_category'] =>
  n === 1 ? 'SINGLE' : n >= 2 && n <= 4 ? 'GROUP' : n >= 5 ? 'LARGE_GROUP' : 'UNKNOWN';
const priceOf = (c: number): EnrichedBooking['price_category'] =>
  c <= 0 ? 'UNKNOWN' : c < 1000 ? 'BUDGET' : c <= 2000 ? 'STANDARD' : 'PREMIUM';

/** A random enriched image (derived fields consistent with the contract's rules). */
function randomImage(i: number, rnd: () => number): EnrichedBooking {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const status = pick(['BOOKED', 'BOOKED', 'CANCELLED', 'PENDING']);
  const count = pick([0, 1, 1, 2, 3, 4, 5, 9]);
  const price = pick([0, 500, 999, 1000, 1550, 2000, 2001, 2500]);
  const total = count * price;
  const day = 1 + Math.floor(rnd() * 5);
  const hour = Math.floor(rnd() * 24);
  const date = Date.UTC(2025, 8, day, hour);
  const movie = rnd() < 0.1 ? null : pick(['M1', 'M2', 'M3', 'M4']);
  const valid = movie !== null && count > 0 && price > 0 && rnd() < 0.9;
  return {
    booking_id: `B${String(i).padStart(4, '0')}`,
    customer_id: `C${i % 7}`,
    movie_id: movie,
    booking_date: date,
    status,
    ticket_count: count,
    ticket_price: price,
    created_at: date,
    updated_at: date + i,
    version: 1 + (i % 3),
    total_amount: total,
    booking_status_category: STATUS[status] ?? 'UNKNOWN',
    booking_size_category: sizeOf(count),
    price_category: priceOf(price),
    active_revenue: status === 'BOOKED' ? total : 0,
    lost_revenue: status === 'CANCELLED' ? total : 0,
    booking_date_only: `2025-09-0${day}`,
    booking_hour: hour,
    day_of_week: new Date(date).getUTCDay(),
    is_valid_booking: valid,
    validation_errors: valid ? [] : ['invalid'],
  };
}

/** Writes rows and the movie_kpis they give (KPIs by `evaluateKpis`, random event counters). */
function seed(db: Database.Database, rows: StoredBooking[], rnd: () => number): void {
  const writer = new ReadModelWriter(db, { bookingCacheSize: 0 });
  const movies = new Map<string, TouchedMovie>();
  for (const key of new Set(rows.map((r) => movieKeyOf(r.movie_id)))) {
    const mine = rows.filter((r) => movieKeyOf(r.movie_id) === key);
    const counters = Object.assign(emptyCounters(key), evaluateKpis(mine));
    for (const d of EVENT_KPIS) counters[d.column] = Math.floor(rnd() * 50);
    counters.last_event_ts_ms = Math.max(...mine.map((r) => r.event_ts_ms ?? 0));
    const live = mine.filter((r) => r.deleted === 0 && r.is_valid_booking === 1);
    const tally = <K>(ks: K[]) => ks.reduce((m, k) => m.set(k, (m.get(k) ?? 0) + 1), new Map<K, number>());
    const days = tally(live.map((r) => r.booking_date_only));
    const hours = tally(live.map((r) => r.booking_hour));
    movies.set(key, {
      state: { counters, days, hours },
      dirtyDays: new Set(days.keys()),
      dirtyHours: new Set(hours.keys()),
    });
  }
  const delta: KpiDelta = { bookings: rows.map((r) => ({ ...r })), movies };
  db.transaction(() => writer.writeDelta(delta, 1, []))();
}

const matches = (f: Filters, r: StoredBooking): boolean =>
  r.deleted === 0 &&
  (f.from === undefined || r.booking_date_only >= f.from) &&
  (f.to === undefined || r.booking_date_only <= f.to) &&
  (f.status === undefined || f.status.includes(r.status)) &&
  (f.movie === undefined || f.movie.includes(movieKeyOf(r.movie_id)));

const KPI_COLUMNS = KPI_DEFINITIONS.map((d) => d.column);

describe(`KPIs generated as SQL (seed ${SEED})`, () => {
  const rnd = prng(SEED);
  const rows = Array.from({ length: 600 }, (_, i) => {
    const image = randomImage(i, rnd);
    const deleted = rnd() < 0.1 ? 1 : 0;
    return storedFromImage(image, image.version, 0, deleted, `e${i}`, image.updated_at + 1000);
  });
  const db = new Database(':memory:');
  applySchema(db);
  seed(db, rows, rnd);
  afterAll(() => db.close());

  test('over every current row, the filtered KPIs equal the stored movie_kpis', () => {
    const stored = new Map(storedKpis(db, {}).map((r) => [r.movie_key, r]));
    const filtered = filteredKpis(db, {});
    expect(filtered.map((r) => r.movie_key)).toEqual(
      [...new Set(rows.filter((r) => r.deleted === 0).map((r) => movieKeyOf(r.movie_id)))].sort(),
    );
    expect(filtered.some((r) => r.movie_key === NO_MOVIE_KEY)).toBe(true);
    for (const f of filtered) {
      const s = stored.get(f.movie_key);
      expect(Object.keys(f)).toEqual([...Object.keys(s ?? {})].filter((k) => k !== 'snapshot_version'));
      for (const col of KPI_COLUMNS) expect([f.movie_key, col, f[col]]).toEqual([f.movie_key, col, s?.[col]]);
    }
  });

  const filters: Filters[] = [
    { status: ['BOOKED'] },
    { from: '2025-09-02', to: '2025-09-03' },
    { movie: ['M1', NO_MOVIE_KEY], status: ['CANCELLED', 'PENDING'] },
    { from: '2025-09-05', movie: ['M3'] },
    { status: ['NOTHING'] },
  ];
  test.each(filters)('under filters %j they equal the definitions over the same rows', (f) => {
    const stored = new Map(storedKpis(db, {}).map((r) => [r.movie_key, r]));
    const selected = rows.filter((r) => matches(f, r));
    const keys = [...new Set(selected.map((r) => movieKeyOf(r.movie_id)))].sort();
    const got = filteredKpis(db, f);
    expect(got.map((r) => r.movie_key)).toEqual(keys);
    for (const r of got) {
      const want: Record<string, unknown> = {
        ...evaluateKpis(selected.filter((s) => movieKeyOf(s.movie_id) === r.movie_key)),
      };
      for (const d of EVENT_KPIS) want[d.column] = stored.get(r.movie_key)?.[d.column];
      for (const col of KPI_COLUMNS)
        expect([r.movie_key, col, r[col]]).toEqual([r.movie_key, col, want[col]]);
    }
    const s = summary(db, f);
    const all = evaluateKpis(selected);
    expect(s).toMatchObject({
      total_bookings: all.total_bookings,
      valid_bookings: all.valid_bookings,
      invalid_bookings: all.invalid_bookings,
      active_bookings: all.active_bookings,
      cancelled_bookings: all.cancelled_bookings,
      total_tickets: all.total_tickets,
      total_revenue_cents: all.total_gross_revenue_cents,
      active_revenue_cents: all.total_active_revenue_cents,
      lost_revenue_cents: all.total_lost_revenue_cents,
      data_quality_score: all.data_quality_score,
      cancellation_rate_percent: all.cancellation_rate_percent,
    });
    const sum = (xs: { bookings: number; revenue_cents: number }[]) =>
      xs.reduce((a, x) => [a[0]! + x.bookings, a[1]! + x.revenue_cents], [0, 0]);
    for (const series of [s.by_status, s.by_hour, s.by_day_of_week]) {
      expect(sum(series)).toEqual([all.total_bookings, all.total_gross_revenue_cents]);
    }
  });

  test('ratios in SQL round exactly as the writer does', () => {
    const r = prng(SEED + 1);
    const cases: [number, number][] = [
      [201, 20000],
      [1, 3],
      [2, 3],
      [0, 5],
      [7, 0],
      [2501, 2],
      [123_456_789_012, 7],
    ];
    for (let i = 0; i < 300; i++) cases.push([Math.floor(r() * 1e7), 1 + Math.floor(r() * 5000)]);
    for (const d of RATIO_KPIS) {
      const stmt = db.prepare(`SELECT ${ratioSql(d, '@of', '@per')} AS v`).pluck();
      for (const [of, per] of cases) {
        expect([d.column, of, per, stmt.get({ of, per })]).toEqual([
          d.column,
          of,
          per,
          ratio(of, per, d.scale, d.decimals),
        ]);
      }
    }
  });
});
