import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { CdcError } from '@cdc/core';
import { BOOKINGS_DDL } from './booking-row';
import { KPI_DEFINITIONS } from './kpi-definitions';

/**
 * The read model's SQLite database (WAL): written by the aggregator (one writer), read by the UI.
 *
 * - `bookings`: the current row of every booking (booking-row.ts).
 * - `movie_kpis`: one row per movie with every KPI of the definitions (kpi-definitions.ts), money
 *   in integer cents (`_cents`); `movie_key` is the movie id, or '(none)' for bookings without
 *   a movie.
 * - `movie_day_counts`, `movie_hour_counts`: reference counts behind the distinct KPIs
 *   (`booking_days`, `active_hours`), so they stay exact under retraction.
 * - `applied_offsets`: per topic-partition, the next offset to read; written in the same
 *   transaction as the KPI changes.
 * - `batch_history`: one row per applied batch.
 * - `meta`: the schema version and the snapshot counters.
 *
 * Schema versions: 1, the first; 2 adds `bookings.derivation_epoch` (which derivation of its
 * version the row carries) and `batch_history.rederived`. A database of an older version is
 * migrated when opened for writing (`applySchema`: ALTER TABLE … ADD COLUMN, the old rows get 0,
 * the epoch every record had before backfills existed), so an aggregator upgraded in place keeps
 * its database and offsets. A database of a newer version is refused.
 */
export const SCHEMA_VERSION = 2;

/** Columns added after schema version 1: added to an older database by `applySchema`. */
const ADDED_COLUMNS: readonly { table: string; column: string; sql: string }[] = [
  { table: 'bookings', column: 'derivation_epoch', sql: 'INTEGER NOT NULL DEFAULT 0' },
  { table: 'batch_history', column: 'rederived', sql: 'INTEGER NOT NULL DEFAULT 0' },
];

export const DEFAULT_DB_PATH = 'data/aggregator.db';

/**
 * The bookings table's indexes: one per way the API reads rows (filters.ts, queries.ts), each
 * keeping its read proportional to the rows it returns, not to the table (`npm run bench -- scale`
 * and the read-model's query-plan test):
 * - `bookings_by_movie`: a movie filter, its page sorted by booking time;
 * - `bookings_by_day`: a booking-date range, and the range of dates the filters offer;
 * - `bookings_by_status`: a status filter (with a date range), and the statuses offered;
 * - `bookings_by_time`: the page sorted by booking time.
 * None is partial (`WHERE deleted = 0`) any more: without statistics SQLite took a partial index
 * for every query filtering `deleted = 0` — an unfiltered summary then read the whole table
 * through it, one primary-key lookup per row, 3× the CPU of reading the table in order. The
 * earlier partial indexes are dropped when a database is opened for writing.
 */
const BOOKINGS_INDEXES_SQL = `DROP INDEX IF EXISTS bookings_movie;
DROP INDEX IF EXISTS bookings_date;
CREATE INDEX IF NOT EXISTS bookings_by_movie ON bookings (movie_id, booking_date);
CREATE INDEX IF NOT EXISTS bookings_by_day ON bookings (booking_date_only);
CREATE INDEX IF NOT EXISTS bookings_by_status ON bookings (status, booking_date_only);
CREATE INDEX IF NOT EXISTS bookings_by_time ON bookings (booking_date);`;

const MOVIE_KPIS_DDL = `CREATE TABLE IF NOT EXISTS movie_kpis (
  movie_key TEXT PRIMARY KEY,
  movie_id TEXT,
  ${KPI_DEFINITIONS.map((d) => `${d.column} ${d.kind === 'ratio' ? 'REAL' : 'INTEGER NOT NULL DEFAULT 0'}`).join(',\n  ')},
  updated_at INTEGER NOT NULL DEFAULT 0,
  last_event_ts_ms INTEGER NOT NULL DEFAULT 0,
  snapshot_version INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;`;

export const SCHEMA_SQL = `
${BOOKINGS_DDL}
${BOOKINGS_INDEXES_SQL}

${MOVIE_KPIS_DDL}

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
  snapshot_version INTEGER NOT NULL,
  rederived INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
`;

/** Opens (creating if needed) the database for writing: WAL, schema applied. */
export function openWritable(file: string): Database.Database {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    applySchema(db);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

/**
 * Creates the tables and indexes that do not exist yet, migrates a database of an older schema
 * version (one transaction) and records the schema version. Refuses a database of a newer one.
 */
export function applySchema(db: Database.Database): void {
  const stored = storedSchemaVersion(db);
  if (stored !== null && stored > SCHEMA_VERSION) {
    throw new CdcError(
      'STORED_STATE_INVALID',
      `the database ${db.name} has schema version ${stored}, newer than this version's (${SCHEMA_VERSION}): ` +
        'upgrade, or rebuild it with this version (cdc aggregate --rebuild)',
    );
  }
  db.transaction(() => {
    db.exec(SCHEMA_SQL);
    for (const c of ADDED_COLUMNS) {
      const columns = db.prepare(`SELECT name FROM pragma_table_info('${c.table}')`).pluck().all();
      if (!columns.includes(c.column)) db.exec(`ALTER TABLE ${c.table} ADD COLUMN ${c.column} ${c.sql}`);
    }
    db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run(
      'schema_version',
      String(SCHEMA_VERSION),
    );
  })();
}

/** The schema version a database records, or null for a new (empty) one. */
export function storedSchemaVersion(db: Database.Database): number | null {
  const meta = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get();
  if (meta === undefined) return null;
  const v = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get();
  return v === undefined ? null : Number(v);
}

/** Opens an existing database read-only (queries only). Fails when it does not exist. */
export function openReadOnly(file: string): Database.Database {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  db.pragma('query_only = ON');
  return db;
}
