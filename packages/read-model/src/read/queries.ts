import type Database from 'better-sqlite3';
import { BOOKING_ROW_COLUMNS, type BookingRow } from '../booking-row';
import type { EvaluatedKpis } from '../kpi-eval';
import type { MovieKpiRow } from '../kpi-row';
import { movieKpisSql, rowKpiExpression, totalKpisSql } from '../kpi-sql';
import type { DbHandle, SqlSource } from './db-handle';
import { orderClause, whereClause, type BookingsOrder, type Filters } from './filters';

/**
 * The typed read queries over the read model (the UI's API). Every value goes in as a parameter
 * (filters.ts); the KPI SQL is generated from the KPI definitions (kpi-sql.ts). Money stays
 * integer cents.
 */
export const BOOKING_SELECT = `SELECT ${BOOKING_ROW_COLUMNS.join(', ')} FROM bookings`;

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

/**
 * Cards and chart series over the current rows under the filters, with the KPI definitions
 * (revenue: the gross revenue of valid rows; bookings: every current row). A series groups by
 * `+column`: grouping by the bare column lets SQLite walk an index in its order (bookings_by_status)
 * and fetch every row through it, 2.5× the CPU of reading the table and sorting (100,000 rows).
 */
export function summary(db: SqlSource, f: Filters): Summary {
  const w = whereClause(f);
  const t = db.prepare(totalKpisSql(w.sql)).get(...w.params) as EvaluatedKpis;
  const group = (col: string) =>
    db
      .prepare(
        `SELECT ${col} AS k, ${rowKpiExpression('total_bookings')} AS bookings,
          ${rowKpiExpression('total_gross_revenue_cents')} AS revenue_cents
         FROM bookings ${w.sql} GROUP BY +${col} ORDER BY +${col}`,
      )
      .all(...w.params) as { k: string | number; bookings: number; revenue_cents: number }[];
  const byHour = new Map(group('booking_hour').map((r) => [Number(r.k), r]));
  const byDay = new Map(group('day_of_week').map((r) => [Number(r.k), r]));
  return {
    total_bookings: t.total_bookings,
    valid_bookings: t.valid_bookings,
    invalid_bookings: t.invalid_bookings,
    active_bookings: t.active_bookings,
    cancelled_bookings: t.cancelled_bookings,
    total_tickets: t.total_tickets,
    total_revenue_cents: t.total_gross_revenue_cents,
    active_revenue_cents: t.total_active_revenue_cents,
    lost_revenue_cents: t.total_lost_revenue_cents,
    data_quality_score: t.data_quality_score,
    cancellation_rate_percent: t.cancellation_rate_percent,
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

/** The stored movie_kpis rows, optionally for some movies only (the filters' other fields are ignored). */
export function storedKpis(db: SqlSource, f: Filters): MovieKpiRow[] {
  const movies = f.movie ?? [];
  const sql =
    movies.length > 0
      ? `SELECT * FROM movie_kpis WHERE movie_key IN (${movies.map(() => '?').join(', ')}) ORDER BY movie_key`
      : 'SELECT * FROM movie_kpis ORDER BY movie_key';
  return db.prepare(sql).all(...movies) as MovieKpiRow[];
}

/** A movie's KPIs recomputed over filtered rows: movie_kpis's columns but the snapshot version. */
export type FilteredKpiRow = Omit<MovieKpiRow, 'snapshot_version'>;

/**
 * Per-movie KPIs recomputed over the current rows that pass the filters (a booking-date range or
 * a status cannot be answered from movie_kpis). Over the same rows they equal movie_kpis; the
 * event counters (new_bookings, status_changes, updates, deleted_bookings) count events, not
 * rows: they are taken unfiltered from movie_kpis.
 */
export function filteredKpis(db: SqlSource, f: Filters): FilteredKpiRow[] {
  const w = whereClause(f);
  return db.prepare(movieKpisSql(w.sql)).all(...w.params) as FilteredKpiRow[];
}

export interface BookingsPageQuery extends Filters, BookingsOrder {
  /** 1-based. */
  page: number;
  pageSize: number;
}

export interface BookingsPage {
  total: number;
  page: number;
  pageSize: number;
  rows: BookingRow[];
}

export function bookingsPage(db: SqlSource, q: BookingsPageQuery): BookingsPage {
  const w = whereClause(q);
  const total = (db.prepare(`SELECT COUNT(*) AS n FROM bookings ${w.sql}`).get(...w.params) as { n: number })
    .n;
  const rows = db
    .prepare(`${BOOKING_SELECT} ${w.sql} ${orderClause(q.sort, q.order)} LIMIT ? OFFSET ?`)
    .all(...w.params, q.pageSize, (q.page - 1) * q.pageSize) as BookingRow[];
  return { total, page: q.page, pageSize: q.pageSize, rows };
}

export interface BookingsExport {
  /** The filtered rows in order, read lazily. */
  rows: IterableIterator<BookingRow>;
  /** Ends the read and closes its connection (always call it). */
  close(): void;
}

/**
 * Every filtered row, in order, from a separate read-only connection inside one read
 * transaction: a consistent snapshot for a long export even while the aggregator writes.
 */
export function exportBookings(db: DbHandle, q: Filters & BookingsOrder): BookingsExport {
  const w = whereClause(q);
  const conn: Database.Database = db.openExtra();
  let rows: IterableIterator<BookingRow> | null = null;
  const close = () => {
    rows?.return?.();
    if (conn.inTransaction) conn.prepare('COMMIT').run();
    conn.close();
  };
  try {
    conn.prepare('BEGIN').run();
    rows = conn
      .prepare(`${BOOKING_SELECT} ${w.sql} ${orderClause(q.sort, q.order)}`)
      .iterate(...w.params) as IterableIterator<BookingRow>;
    return { rows, close };
  } catch (err) {
    close();
    throw err;
  }
}

export interface FilterOptions {
  statuses: string[];
  movies: string[];
  min_date: string | null;
  max_date: string | null;
}

/**
 * The statuses of current rows, one index seek per status (a loose scan of bookings_by_status)
 * instead of `SELECT DISTINCT status`, which reads every row.
 */
const DISTINCT_STATUSES_SQL = `WITH RECURSIVE s(status) AS (
    SELECT MIN(status) FROM bookings
    UNION ALL
    SELECT (SELECT MIN(status) FROM bookings WHERE status > s.status) FROM s WHERE s.status IS NOT NULL
  )
  SELECT status FROM s
  WHERE status IS NOT NULL AND EXISTS (SELECT 1 FROM bookings b WHERE b.status = s.status AND b.deleted = 0)
  ORDER BY status`;

/** What the filter controls offer: statuses and movies present, the range of booking dates. */
export function filterOptions(db: SqlSource): FilterOptions {
  const statuses = db.prepare(DISTINCT_STATUSES_SQL).all() as { status: string }[];
  const movies = db.prepare('SELECT movie_key FROM movie_kpis ORDER BY movie_key').all() as {
    movie_key: string;
  }[];
  const date = (dir: 'ASC' | 'DESC') =>
    (
      db
        .prepare(
          `SELECT booking_date_only AS d FROM bookings WHERE deleted = 0 ORDER BY booking_date_only ${dir} LIMIT 1`,
        )
        .get() as { d: string } | undefined
    )?.d ?? null;
  return {
    statuses: statuses.map((s) => s.status),
    movies: movies.map((m) => m.movie_key),
    min_date: date('ASC'),
    max_date: date('DESC'),
  };
}

export interface AggregatorProgress {
  offsets: { topic: string; partition: number; next_offset: number }[];
  lastBatch: { started_at: number; duration_ms: number; changes: number; snapshot_version: number } | null;
}

/** The writer's progress: applied offsets per silver partition and its latest batch. */
export function aggregatorProgress(db: SqlSource): AggregatorProgress {
  const offsets = db
    .prepare('SELECT topic, partition, next_offset FROM applied_offsets')
    .all() as AggregatorProgress['offsets'];
  const lastBatch =
    (db
      .prepare(
        'SELECT started_at, duration_ms, changes, snapshot_version FROM batch_history ORDER BY id DESC LIMIT 1',
      )
      .get() as AggregatorProgress['lastBatch'] | undefined) ?? null;
  return { offsets, lastBatch };
}

export interface BatchHistoryRow {
  started_at: number;
  duration_ms: number;
  changes: number;
  applied: number;
  skipped: number;
  snapshot_version: number;
}

/** The aggregator's last `limit` batches, newest first (`cdc status` shows them). */
export function recentBatches(db: SqlSource, limit: number): BatchHistoryRow[] {
  return db
    .prepare(
      'SELECT started_at, duration_ms, changes, applied, skipped, snapshot_version FROM batch_history ORDER BY id DESC LIMIT ?',
    )
    .all(limit) as BatchHistoryRow[];
}

/** The newest event time reflected in the KPIs (what gold shows), or null for an empty database. */
export function newestEventTime(db: SqlSource): number | null {
  const row = db.prepare('SELECT MAX(last_event_ts_ms) AS t FROM movie_kpis').get() as { t: number | null };
  return row.t && row.t > 0 ? row.t : null;
}
