import type Database from 'better-sqlite3';
import { BOOKING_COLUMNS, STATE_COLUMNS } from './booking-row';
import { MOVIE_KPI_COLUMNS } from './kpi-row';

/**
 * The writer's SQL, prepared once per connection. Column lists come from the schema's lists, so a
 * column added there is written here too.
 */
const insertSql = (table: string, cols: readonly string[]): string =>
  `INSERT OR REPLACE INTO ${table} (${cols.join(', ')}) VALUES (${cols.map((c) => '@' + c).join(', ')})`;

/** INSERT … ON CONFLICT DO UPDATE (an in-place update: no delete + insert as with REPLACE), positional. */
const upsertSql = (table: string, cols: readonly string[], key: string): string =>
  `INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')}) ` +
  `ON CONFLICT (${key}) DO UPDATE SET ${cols
    .filter((c) => c !== key)
    .map((c) => `${c} = excluded.${c}`)
    .join(', ')}`;

const SQL = {
  booking: `SELECT ${STATE_COLUMNS.join(', ')} FROM bookings WHERE booking_id = ?`,
  movie: 'SELECT * FROM movie_kpis WHERE movie_key = ?',
  bookingIdsAfter: 'SELECT booking_id FROM bookings WHERE booking_id > ? ORDER BY booking_id LIMIT ?',
  bookingCount: 'SELECT COUNT(*) FROM bookings',
  days: 'SELECT booking_date_only, n FROM movie_day_counts WHERE movie_key = ?',
  hours: 'SELECT booking_hour, n FROM movie_hour_counts WHERE movie_key = ?',
  putBooking: upsertSql('bookings', BOOKING_COLUMNS, 'booking_id'),
  insertBooking: `INSERT INTO bookings (${BOOKING_COLUMNS.join(', ')}) VALUES (${BOOKING_COLUMNS.map(() => '?').join(', ')})`,
  putMovie: insertSql('movie_kpis', MOVIE_KPI_COLUMNS),
  putDay: 'INSERT OR REPLACE INTO movie_day_counts (movie_key, booking_date_only, n) VALUES (?, ?, ?)',
  delDay: 'DELETE FROM movie_day_counts WHERE movie_key = ? AND booking_date_only = ?',
  putHour: 'INSERT OR REPLACE INTO movie_hour_counts (movie_key, booking_hour, n) VALUES (?, ?, ?)',
  delHour: 'DELETE FROM movie_hour_counts WHERE movie_key = ? AND booking_hour = ?',
  offset: 'SELECT next_offset FROM applied_offsets WHERE topic = ? AND partition = ?',
  offsets: 'SELECT partition, next_offset FROM applied_offsets WHERE topic = ?',
  putOffset: 'INSERT OR REPLACE INTO applied_offsets (topic, partition, next_offset) VALUES (?, ?, ?)',
  history: `INSERT INTO batch_history (started_at, duration_ms, changes, applied, skipped, rederived,
      movies_changed, offsets, snapshot_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  pruneHistory: 'DELETE FROM batch_history WHERE id <= ?',
  getMeta: 'SELECT value FROM meta WHERE key = ?',
  putMeta: 'INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)',
  pending: 'SELECT * FROM movie_kpis WHERE snapshot_version > ? ORDER BY snapshot_version',
};

export type Statements = Record<keyof typeof SQL, Database.Statement>;

export function prepareStatements(db: Database.Database): Statements {
  const s = Object.fromEntries(
    Object.entries(SQL).map(([name, sql]) => [name, db.prepare(sql)]),
  ) as Statements;
  s.days.raw();
  s.hours.raw();
  s.offset.pluck();
  s.bookingIdsAfter.pluck();
  s.bookingCount.pluck();
  s.getMeta.pluck();
  return s;
}
