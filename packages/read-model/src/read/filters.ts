import { CdcError, NO_MOVIE_KEY } from '@cdc/core';
import type { BookingRowColumn } from '../booking-row';

/**
 * Row filters and sort orders as SQL: the WHERE and ORDER BY clauses of the read queries. Every
 * value goes in as a parameter; only whitelisted column names are ever put into the SQL text.
 * Validating what a client sends is the caller's job (the UI's query schemas); these types are
 * what it must produce.
 */
export interface Filters {
  /** Booking dates (booking_date_only, YYYY-MM-DD) from and to, inclusive. */
  from?: string;
  to?: string;
  status?: string[];
  /** Movie ids; NO_MOVIE_KEY ('(none)') selects the bookings without a movie. */
  movie?: string[];
}

/** Columns the bookings list can be sorted by (whitelist: they go into ORDER BY). */
export const SORT_COLUMNS = [
  'booking_id',
  'movie_id',
  'customer_id',
  'booking_date',
  'status',
  'ticket_count',
  'ticket_price_cents',
  'total_amount_cents',
  'active_revenue_cents',
  'lost_revenue_cents',
  'is_valid_booking',
  'version',
  'derivation_epoch',
  'updated_at',
] as const satisfies readonly BookingRowColumn[];
export type SortColumn = (typeof SORT_COLUMNS)[number];

export type SortOrder = 'asc' | 'desc';

export interface BookingsOrder {
  sort: SortColumn;
  order: SortOrder;
}

export interface SqlClause {
  sql: string;
  params: (string | number)[];
}

/** `WHERE` clause over current (non-deleted) booking rows for the filters; values as parameters. */
export function whereClause(f: Filters): SqlClause {
  const parts = ['deleted = 0'];
  const params: (string | number)[] = [];
  if (f.from !== undefined) {
    parts.push('booking_date_only >= ?');
    params.push(f.from);
  }
  if (f.to !== undefined) {
    parts.push('booking_date_only <= ?');
    params.push(f.to);
  }
  if (f.status && f.status.length > 0) {
    // A movie's rows without a date range: through bookings_by_movie, not bookings_by_status
    // (`+status` keeps SQLite, which has no statistics, off the status index: a status such as
    // BOOKED selects most of the table, fetched row by row through that index).
    const byMovie = f.movie !== undefined && f.movie.length > 0 && f.from === undefined && f.to === undefined;
    parts.push(`${byMovie ? '+' : ''}status IN (${f.status.map(() => '?').join(', ')})`);
    params.push(...f.status);
  }
  if (f.movie && f.movie.length > 0) {
    const ids = f.movie.filter((m) => m !== NO_MOVIE_KEY);
    const or: string[] = [];
    if (ids.length > 0) {
      or.push(`movie_id IN (${ids.map(() => '?').join(', ')})`);
      params.push(...ids);
    }
    if (ids.length < f.movie.length) or.push('movie_id IS NULL');
    parts.push(`(${or.join(' OR ')})`);
  }
  return { sql: `WHERE ${parts.join(' AND ')}`, params };
}

/** `ORDER BY` for a whitelisted column; ties broken by booking_id so pages are stable. */
export function orderClause(sort: SortColumn, order: SortOrder): string {
  if (!(SORT_COLUMNS as readonly string[]).includes(sort)) {
    throw new CdcError('USAGE', `not a sort column: ${sort}`);
  }
  const dir = order === 'asc' ? 'ASC' : 'DESC';
  return sort === 'booking_id' ? `ORDER BY booking_id ${dir}` : `ORDER BY ${sort} ${dir}, booking_id ${dir}`;
}

/** True when the filters restrict rows in a way movie_kpis cannot answer (date or status). */
export const needsRowQuery = (f: Filters): boolean =>
  f.from !== undefined || f.to !== undefined || (f.status !== undefined && f.status.length > 0);
