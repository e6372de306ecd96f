import {
  BOOKING_COLUMNS as STORED_BOOKING_COLUMNS,
  type BookingColumn as StoredBookingColumn,
} from '@cdc/aggregator';
import type { DbHandle } from './db';
import { orderClause, whereClause, type BookingsQuery, type Filters } from './query';

/**
 * Read-only SQL over the aggregator's tables. Every value goes in as a parameter; only
 * whitelisted column names are ever put into the SQL text. Money stays integer cents.
 */
/** The bookings table's columns as the API and the CSV export give them: all but the tombstone flag. */
export type BookingColumn = Exclude<StoredBookingColumn, 'deleted'>;
export const BOOKING_COLUMNS: readonly BookingColumn[] = STORED_BOOKING_COLUMNS.filter(
  (c): c is BookingColumn => c !== 'deleted',
);
export type BookingRow = Record<BookingColumn, string | number | null>;

export const BOOKING_SELECT = `SELECT ${BOOKING_COLUMNS.join(', ')} FROM bookings`;

export const round2 = (x: number): number => Math.round(x * 100) / 100;
const pct = (part: number, whole: number): number | null => (whole > 0 ? round2((part / whole) * 100) : null);

export interface Summary {
  total_bookings: number;
  valid_bookings: number;
  invalid_bookings: number;
  active_bookings: number;
  cancelled_bookings: number;
  total_tickets: number;
  total_revenue_cents: number;
  active_revenue_cents: number;
  lost_revenue_cents: number;
  data_quality_score: number | null;
  cancellation_rate_percent: number | null;
  by_status: { status: string; bookings: number; revenue_cents: number }[];
  by_hour: { hour: number; bookings: number; revenue_cents: number }[];
  by_day_of_week: { day_of_week: number; bookings: number; revenue_cents: number }[];
}

/** Cards and chart series over the current rows under the filters. Revenue counts valid rows only. */
export function summary(db: DbHandle, f: Filters): Summary {
  const w = whereClause(f);
  const t = db
    .prepare(
      `SELECT COUNT(*) AS n, COALESCE(SUM(is_valid_booking), 0) AS valid,
        COALESCE(SUM(CASE WHEN is_valid_booking = 1 AND booking_status_category = 'ACTIVE' THEN 1 ELSE 0 END), 0) AS active,
        COALESCE(SUM(CASE WHEN is_valid_booking = 1 AND booking_status_category = 'INACTIVE' THEN 1 ELSE 0 END), 0) AS cancelled,
        COALESCE(SUM(CASE WHEN is_valid_booking = 1 THEN ticket_count ELSE 0 END), 0) AS tickets,
        COALESCE(SUM(CASE WHEN is_valid_booking = 1 THEN total_amount_cents ELSE 0 END), 0) AS gross,
        COALESCE(SUM(CASE WHEN is_valid_booking = 1 THEN active_revenue_cents ELSE 0 END), 0) AS active_rev,
        COALESCE(SUM(CASE WHEN is_valid_booking = 1 THEN lost_revenue_cents ELSE 0 END), 0) AS lost_rev
       FROM bookings ${w.sql}`,
    )
    .get(...w.params) as Record<string, number>;
  const group = (col: string) =>
    db
      .prepare(
        `SELECT ${col} AS k, COUNT(*) AS bookings,
          COALESCE(SUM(CASE WHEN is_valid_booking = 1 THEN total_amount_cents ELSE 0 END), 0) AS revenue_cents
         FROM bookings ${w.sql} GROUP BY ${col} ORDER BY ${col}`,
      )
      .all(...w.params) as { k: string | number; bookings: number; revenue_cents: number }[];
  const byHour = new Map(group('booking_hour').map((r) => [Number(r.k), r]));
  const byDay = new Map(group('day_of_week').map((r) => [Number(r.k), r]));
  const n = t.n ?? 0;
  const valid = t.valid ?? 0;
  return {
    total_bookings: n,
    valid_bookings: valid,
    invalid_bookings: n - valid,
    active_bookings: t.active ?? 0,
    cancelled_bookings: t.cancelled ?? 0,
    total_tickets: t.tickets ?? 0,
    total_revenue_cents: t.gross ?? 0,
    active_revenue_cents: t.active_rev ?? 0,
    lost_revenue_cents: t.lost_rev ?? 0,
    data_quality_score: pct(valid, n),
    cancellation_rate_percent: pct(t.cancelled ?? 0, valid),
    by_status: group('status').map((r) => ({
      status: String(r.k),
      bookings: r.bookings,
      revenue_cents: r.revenue_cents,
    })),
    by_hour: Array.from({ length: 24 }, (_, hour) => ({
      hour,
      bookings: byHour.get(hour)?.bookings ?? 0,
      revenue_cents: byHour.get(hour)?.revenue_cents ?? 0,
    })),
    by_day_of_week: Array.from({ length: 7 }, (_, day) => ({
      day_of_week: day,
      bookings: byDay.get(day)?.bookings ?? 0,
      revenue_cents: byDay.get(day)?.revenue_cents ?? 0,
    })),
  };
}

const KPI_COUNTERS = ['new_bookings', 'status_changes', 'updates', 'deleted_bookings'] as const;

/** The aggregator's movie_kpis rows, optionally for some movies only. */
export function storedKpis(db: DbHandle, f: Filters): Record<string, unknown>[] {
  const movies = f.movie ?? [];
  const sql =
    movies.length > 0
      ? `SELECT * FROM movie_kpis WHERE movie_key IN (${movies.map(() => '?').join(', ')}) ORDER BY movie_key`
      : 'SELECT * FROM movie_kpis ORDER BY movie_key';
  return db.prepare(sql).all(...movies) as Record<string, unknown>[];
}

/**
 * Per-movie KPIs recomputed over the current rows that pass the filters (a booking-date range or
 * a status cannot be answered from movie_kpis), with the contract's definitions. The event
 * counters (new_bookings, status_changes, updates, deleted_bookings) count events, not rows:
 * they are taken unfiltered from movie_kpis.
 */
export function filteredKpis(db: DbHandle, f: Filters): Record<string, unknown>[] {
  const w = whereClause(f);
  const v = 'is_valid_booking = 1';
  const count = (cond: string) => `COALESCE(SUM(CASE WHEN ${v} AND ${cond} THEN 1 ELSE 0 END), 0)`;
  const sum = (col: string) => `COALESCE(SUM(CASE WHEN ${v} THEN ${col} ELSE 0 END), 0)`;
  const rows = db
    .prepare(
      `SELECT COALESCE(movie_id, '(none)') AS movie_key, movie_id,
        COUNT(*) AS total_bookings, COALESCE(SUM(is_valid_booking), 0) AS valid_bookings,
        ${count("booking_status_category = 'ACTIVE'")} AS active_bookings,
        ${count("booking_status_category = 'INACTIVE'")} AS cancelled_bookings,
        ${sum('ticket_count')} AS total_tickets,
        ${sum('active_revenue_cents')} AS total_active_revenue_cents,
        ${sum('lost_revenue_cents')} AS total_lost_revenue_cents,
        ${sum('total_amount_cents')} AS total_gross_revenue_cents,
        ${count("booking_size_category = 'SINGLE'")} AS single_bookings,
        ${count("booking_size_category = 'GROUP'")} AS group_bookings,
        ${count("booking_size_category = 'LARGE_GROUP'")} AS large_group_bookings,
        ${count("price_category = 'BUDGET'")} AS budget_bookings,
        ${count("price_category = 'STANDARD'")} AS standard_bookings,
        ${count("price_category = 'PREMIUM'")} AS premium_bookings,
        COUNT(DISTINCT CASE WHEN ${v} THEN booking_date_only END) AS booking_days,
        COUNT(DISTINCT CASE WHEN ${v} THEN booking_hour END) AS active_hours,
        MAX(updated_at) AS updated_at, MAX(event_ts_ms) AS last_event_ts_ms
       FROM bookings ${w.sql} GROUP BY movie_key ORDER BY movie_key`,
    )
    .all(...w.params) as Record<string, number | string | null>[];
  const counters = new Map(
    (
      db.prepare(`SELECT movie_key, ${KPI_COUNTERS.join(', ')} FROM movie_kpis`).all() as Record<
        string,
        number | string
      >[]
    ).map((r) => [String(r.movie_key), r]),
  );
  return rows.map((r) => {
    const total = Number(r.total_bookings);
    const valid = Number(r.valid_bookings);
    const active = Number(r.active_bookings);
    const c = counters.get(String(r.movie_key));
    return {
      ...r,
      invalid_bookings: total - valid,
      data_quality_score: pct(valid, total),
      cancellation_rate_percent: pct(Number(r.cancelled_bookings), valid),
      active_rate_percent: pct(active, valid),
      avg_revenue_per_active_booking_cents:
        active > 0 ? round2(Number(r.total_active_revenue_cents) / active) : null,
      ...Object.fromEntries(KPI_COUNTERS.map((k) => [k, c ? Number(c[k]) : 0])),
    };
  });
}

export interface BookingsPage {
  total: number;
  page: number;
  pageSize: number;
  rows: BookingRow[];
}

export function bookingsPage(db: DbHandle, q: BookingsQuery): BookingsPage {
  const w = whereClause(q);
  const total = (db.prepare(`SELECT COUNT(*) AS n FROM bookings ${w.sql}`).get(...w.params) as { n: number })
    .n;
  const rows = db
    .prepare(`${BOOKING_SELECT} ${w.sql} ${orderClause(q.sort, q.order)} LIMIT ? OFFSET ?`)
    .all(...w.params, q.pageSize, (q.page - 1) * q.pageSize) as BookingRow[];
  return { total, page: q.page, pageSize: q.pageSize, rows };
}

export interface FilterOptions {
  statuses: string[];
  movies: string[];
  min_date: string | null;
  max_date: string | null;
}

/** What the filter controls offer: statuses and movies present, the range of booking dates. */
export function filterOptions(db: DbHandle): FilterOptions {
  const statuses = db
    .prepare('SELECT DISTINCT status FROM bookings WHERE deleted = 0 ORDER BY status')
    .all() as { status: string }[];
  const movies = db.prepare('SELECT movie_key FROM movie_kpis ORDER BY movie_key').all() as {
    movie_key: string;
  }[];
  const range = db
    .prepare(
      'SELECT MIN(booking_date_only) AS lo, MAX(booking_date_only) AS hi FROM bookings WHERE deleted = 0',
    )
    .get() as { lo: string | null; hi: string | null };
  return {
    statuses: statuses.map((s) => s.status),
    movies: movies.map((m) => m.movie_key),
    min_date: range.lo,
    max_date: range.hi,
  };
}

/** The aggregator's progress: applied offsets per silver partition and its latest batch. */
export function aggregatorProgress(db: DbHandle): {
  offsets: { topic: string; partition: number; next_offset: number }[];
  lastBatch: { started_at: number; duration_ms: number; changes: number; snapshot_version: number } | null;
} {
  const offsets = db.prepare('SELECT topic, partition, next_offset FROM applied_offsets').all() as {
    topic: string;
    partition: number;
    next_offset: number;
  }[];
  const lastBatch =
    (db
      .prepare(
        'SELECT started_at, duration_ms, changes, snapshot_version FROM batch_history ORDER BY id DESC LIMIT 1',
      )
      .get() as
      { started_at: number; duration_ms: number; changes: number; snapshot_version: number } | undefined) ??
    null;
  return { offsets, lastBatch };
}
