import Database from 'better-sqlite3';
import type { EnrichedBooking } from '@cdc/core';
import {
  ReadModelWriter,
  applySchema,
  bookingValues,
  bookingsPage,
  filteredKpis,
  filterOptions,
  storedFromImage,
  summary,
  type SqlSource,
} from '../../src';

/**
 * The plans SQLite picks for the API's queries, so their cost stays proportional to the rows they
 * return, not to the table (`npm run bench -- scale` measures them on 100,000 and more bookings).
 * The project never runs ANALYZE: the planner has no statistics, on a small database as on a
 * large one, so these plans are the ones a 10,000,000-booking database gets.
 */
type Plans = { sql: string; plan: string[] }[];

/** A SqlSource that records every query it runs with the plan SQLite chose for it. */
function recording(db: Database.Database): { source: SqlSource; plans: Plans } {
  const plans: Plans = [];
  const explain = (sql: string, args: unknown[]) =>
    plans.push({
      sql,
      plan: (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[]).map(
        (r) => r.detail,
      ),
    });
  const source: SqlSource = {
    prepare(sql) {
      const stmt = db.prepare(sql);
      const proxy: Database.Statement = new Proxy(stmt, {
        get(target, key) {
          if (key === 'get' || key === 'all') {
            return (...args: unknown[]) => {
              explain(sql, args);
              return key === 'get' ? target.get(...args) : target.all(...args);
            };
          }
          if (key === 'pluck') {
            return (on?: boolean) => {
              target.pluck(on ?? true);
              return proxy;
            };
          }
          const v = Reflect.get(target, key) as unknown;
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      });
      return proxy;
    },
  };
  return { source, plans };
}

const image = (n: number, status: string): EnrichedBooking => ({
  booking_id: `B${n}`,
  customer_id: 'C1',
  movie_id: `M${n % 3}`,
  booking_date: 1_756_893_600_000 + n * 3_600_000,
  status,
  ticket_count: 2,
  ticket_price: 1000,
  created_at: 1,
  updated_at: 2,
  version: 1,
  total_amount: 2000,
  booking_status_category: status === 'BOOKED' ? 'ACTIVE' : 'INACTIVE',
  booking_size_category: 'GROUP',
  price_category: 'STANDARD',
  active_revenue: status === 'BOOKED' ? 2000 : 0,
  lost_revenue: status === 'BOOKED' ? 0 : 2000,
  booking_date_only: `2025-09-${String(1 + (n % 9)).padStart(2, '0')}`,
  booking_hour: n % 24,
  day_of_week: n % 7,
  is_valid_booking: true,
  validation_errors: [],
});

function database(): { db: Database.Database; plans: Plans; source: SqlSource } {
  const db = new Database(':memory:');
  applySchema(db);
  const writer = new ReadModelWriter(db);
  db.transaction(() => {
    for (let n = 1; n <= 30; n++) {
      const row = storedFromImage(image(n, n % 4 === 0 ? 'CANCELLED' : 'BOOKED'), 1, 0, 0, `e${n}`, n);
      writer.insertBookingValues(bookingValues(row));
    }
  })();
  return { db, ...recording(db) };
}

/** The plan lines of the queries run that read `bookings`. */
const bookingsPlans = (plans: Plans): string[][] =>
  plans.filter((p) => /\bFROM bookings\b/.test(p.sql)).map((p) => p.plan);

const readsWholeTable = (plan: string[]): boolean => plan.some((l) => /^SCAN bookings\b/.test(l));

describe('query plans of the API', () => {
  let db: Database.Database;
  afterEach(() => db.close());

  it('the filter choices dates are the ends of bookings_by_day', () => {
    const t = database();
    db = t.db;
    const options = filterOptions(t.source);
    expect(options.statuses).toEqual(['BOOKED', 'CANCELLED']);
    expect(options.min_date).toBe('2025-09-01');
    expect(options.max_date).toBe('2025-09-09');
    const dates = t.plans.filter((p) => /ORDER BY booking_date_only/.test(p.sql)).map((p) => p.plan);
    expect(dates).toHaveLength(2);
    // A walk of bookings_by_day from one end, stopping at the first current row; no sort.
    for (const plan of dates) {
      expect(plan.join('\n')).toMatch(/USING (COVERING )?INDEX bookings_by_day/);
      expect(plan.join('\n')).not.toMatch(/TEMP B-TREE/);
    }
  });

  it('a page without a filter reads one page in key order (no sort of the table)', () => {
    const t = database();
    db = t.db;
    const page = bookingsPage(t.source, { page: 1, pageSize: 5, sort: 'booking_id', order: 'asc' });
    expect(page.total).toBe(30);
    expect(page.rows.map((r) => r.booking_id)).toEqual(['B1', 'B10', 'B11', 'B12', 'B13']);
    const plans = bookingsPlans(t.plans);
    expect(plans.at(-1)!.join('\n')).not.toMatch(/TEMP B-TREE/);
  });

  it("a movie's page, newest first, is a search of bookings_by_movie in order", () => {
    const t = database();
    db = t.db;
    const page = bookingsPage(t.source, {
      page: 1,
      pageSize: 5,
      sort: 'booking_date',
      order: 'desc',
      movie: ['M1'],
    });
    expect(page.total).toBe(10);
    const plan = bookingsPlans(t.plans).at(-1)!.join('\n');
    expect(plan).toMatch(/SEARCH bookings USING INDEX bookings_by_movie/);
    expect(plan).not.toMatch(/TEMP B-TREE FOR ORDER BY/);
  });

  it('a date range or a status is a search of an index, never a read of the whole table', () => {
    const t = database();
    db = t.db;
    const f = { from: '2025-09-02', to: '2025-09-03' };
    filteredKpis(t.source, f);
    filteredKpis(t.source, { ...f, status: ['CANCELLED'] });
    summary(t.source, { status: ['CANCELLED'] });
    bookingsPage(t.source, { ...f, page: 1, pageSize: 5, sort: 'booking_id', order: 'asc' });
    const plans = bookingsPlans(t.plans);
    expect(plans.length).toBeGreaterThan(4);
    for (const plan of plans) {
      expect(readsWholeTable(plan)).toBe(false);
      expect(plan.join('\n')).toMatch(/SEARCH bookings USING (COVERING )?INDEX bookings_by_(day|status)/);
    }
  });

  it("a movie's rows of a status are a search of bookings_by_movie (a status may select most rows)", () => {
    const t = database();
    db = t.db;
    filteredKpis(t.source, { movie: ['M1'], status: ['BOOKED'] });
    const plans = bookingsPlans(t.plans);
    expect(plans).toHaveLength(1);
    expect(plans[0]!.join('\n')).toMatch(/SEARCH bookings USING INDEX bookings_by_movie/);
  });

  it('the unfiltered summary reads the table in key order, not row by row through an index', () => {
    // Still proportional to the table (BENCHMARKS.md, "Scale"): at least never through an index.
    const t = database();
    db = t.db;
    summary(t.source, {});
    for (const plan of bookingsPlans(t.plans)) {
      expect(plan.join('\n')).toMatch(/SCAN bookings(?! USING)/);
    }
  });
});
