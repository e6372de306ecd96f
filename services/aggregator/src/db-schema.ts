import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { COUNTER_COLUMNS } from './kpi';

/**
 * The aggregator's SQLite database (WAL), shared read-only with the live UI.
 *
 * - `bookings`: the current row of every booking (enriched), with its version; a deleted booking
 *   stays as a tombstone (`deleted = 1`, its version kept) so a stale change cannot revive it.
 * - `movie_kpis`: one row per movie with every KPI of the contract; money in integer cents
 *   (`_cents`); `movie_key` is the movie id, or '(none)' for bookings without a movie.
 * - `movie_day_counts`, `movie_hour_counts`: reference counts behind the distinct KPIs
 *   (`booking_days`, `active_hours`), so they stay exact under retraction.
 * - `applied_offsets`: per topic-partition, the next offset to read; written in the same
 *   transaction as the KPI changes.
 * - `batch_history`: one row per applied batch.
 */
export const SCHEMA_VERSION = 1;

/** The bookings table's columns (the UI's API and CSV give all but `deleted`). */
export const BOOKING_COLUMNS = [
  'booking_id',
  'version',
  'deleted',
  'movie_id',
  'customer_id',
  'booking_date',
  'booking_date_only',
  'booking_hour',
  'day_of_week',
  'status',
  'ticket_count',
  'ticket_price_cents',
  'total_amount_cents',
  'active_revenue_cents',
  'lost_revenue_cents',
  'booking_status_category',
  'booking_size_category',
  'price_category',
  'is_valid_booking',
  'validation_errors',
  'created_at',
  'updated_at',
  'event_id',
  'event_ts_ms',
] as const;
export type BookingColumn = (typeof BOOKING_COLUMNS)[number];

/** The movie_kpis columns, as the store writes them and the UI's websocket sends them. */
export const MOVIE_KPI_COLUMNS = [
  'movie_key',
  'movie_id',
  ...COUNTER_COLUMNS,
  'data_quality_score',
  'cancellation_rate_percent',
  'active_rate_percent',
  'avg_revenue_per_active_booking_cents',
  'updated_at',
  'snapshot_version',
] as const;

export const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS bookings (
  booking_id TEXT PRIMARY KEY,
  version INTEGER NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0,
  movie_id TEXT,
  customer_id TEXT,
  booking_date INTEGER NOT NULL,
  booking_date_only TEXT NOT NULL,
  booking_hour INTEGER NOT NULL,
  day_of_week INTEGER NOT NULL,
  status TEXT NOT NULL,
  ticket_count INTEGER NOT NULL,
  ticket_price_cents INTEGER NOT NULL,
  total_amount_cents INTEGER NOT NULL,
  active_revenue_cents INTEGER NOT NULL,
  lost_revenue_cents INTEGER NOT NULL,
  booking_status_category TEXT NOT NULL,
  booking_size_category TEXT NOT NULL,
  price_category TEXT NOT NULL,
  is_valid_booking INTEGER NOT NULL,
  validation_errors TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  event_id TEXT NOT NULL,
  event_ts_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS bookings_movie ON bookings (movie_id) WHERE deleted = 0;
CREATE INDEX IF NOT EXISTS bookings_date ON bookings (booking_date) WHERE deleted = 0;

CREATE TABLE IF NOT EXISTS movie_kpis (
  movie_key TEXT PRIMARY KEY,
  movie_id TEXT,
  total_bookings INTEGER NOT NULL DEFAULT 0,
  valid_bookings INTEGER NOT NULL DEFAULT 0,
  invalid_bookings INTEGER NOT NULL DEFAULT 0,
  data_quality_score REAL,
  active_bookings INTEGER NOT NULL DEFAULT 0,
  cancelled_bookings INTEGER NOT NULL DEFAULT 0,
  total_tickets INTEGER NOT NULL DEFAULT 0,
  total_active_revenue_cents INTEGER NOT NULL DEFAULT 0,
  total_lost_revenue_cents INTEGER NOT NULL DEFAULT 0,
  total_gross_revenue_cents INTEGER NOT NULL DEFAULT 0,
  single_bookings INTEGER NOT NULL DEFAULT 0,
  group_bookings INTEGER NOT NULL DEFAULT 0,
  large_group_bookings INTEGER NOT NULL DEFAULT 0,
  budget_bookings INTEGER NOT NULL DEFAULT 0,
  standard_bookings INTEGER NOT NULL DEFAULT 0,
  premium_bookings INTEGER NOT NULL DEFAULT 0,
  cancellation_rate_percent REAL,
  active_rate_percent REAL,
  avg_revenue_per_active_booking_cents REAL,
  booking_days INTEGER NOT NULL DEFAULT 0,
  active_hours INTEGER NOT NULL DEFAULT 0,
  new_bookings INTEGER NOT NULL DEFAULT 0,
  status_changes INTEGER NOT NULL DEFAULT 0,
  updates INTEGER NOT NULL DEFAULT 0,
  deleted_bookings INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL DEFAULT 0,
  last_event_ts_ms INTEGER NOT NULL DEFAULT 0,
  snapshot_version INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS movie_day_counts (
  movie_key TEXT NOT NULL,
  booking_date_only TEXT NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (movie_key, booking_date_only)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS movie_hour_counts (
  movie_key TEXT NOT NULL,
  booking_hour INTEGER NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (movie_key, booking_hour)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS applied_offsets (
  topic TEXT NOT NULL,
  partition INTEGER NOT NULL,
  next_offset INTEGER NOT NULL,
  PRIMARY KEY (topic, partition)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS batch_history (
  id INTEGER PRIMARY KEY,
  started_at INTEGER NOT NULL,
  duration_ms REAL NOT NULL,
  changes INTEGER NOT NULL,
  applied INTEGER NOT NULL,
  skipped INTEGER NOT NULL,
  movies_changed INTEGER NOT NULL,
  offsets TEXT NOT NULL,
  snapshot_version INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
`;

/** Opens (creating if needed) the aggregator's database for writing: WAL, schema applied. */
export function openWritable(file: string): Database.Database {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  applySchema(db);
  return db;
}

/** Creates the tables and indexes that do not exist yet, and records the schema version. */
export function applySchema(db: Database.Database): void {
  db.exec(SCHEMA_SQL);
  db.prepare('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)').run(
    'schema_version',
    String(SCHEMA_VERSION),
  );
}

/** Opens the database read-only (for the UI). Fails with a clear message when it does not exist yet. */
export function openReadOnly(file: string): Database.Database {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  return db;
}

export const DEFAULT_DB_PATH = 'data/aggregator.db';
