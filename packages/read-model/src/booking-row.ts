import type { EnrichedBooking } from '@cdc/core';

/**
 * The `bookings` table: the current row of every booking (its newest enriched image), or a
 * tombstone (`deleted = 1`, version kept) for a deleted one, so a stale change cannot revive it.
 *
 * Every column is listed once, in BOOKING_TABLE: its name, its SQL type, and where its value
 * comes from when a row is written. The DDL, the writer's statements and the readers' column
 * lists are derived from it. To add a column: add an entry here and its value to `bookingValues`
 * (a unit test fails until they agree); if the KPIs or the version rule read it, also to
 * STATE_COLUMNS and `StoredBooking`.
 */
interface ColumnSpec<N extends string> {
  name: N;
  sql: string;
  value: (row: StoredBooking, image: EnrichedBooking) => string | number | null;
}

const column = <N extends string>(
  name: N,
  sql: string,
  value: (row: StoredBooking, image: EnrichedBooking) => string | number | null,
): ColumnSpec<N> => ({ name, sql, value });

export const BOOKING_TABLE = [
  column('booking_id', 'TEXT PRIMARY KEY', (_r, b) => b.booking_id),
  column('version', 'INTEGER NOT NULL', (r) => r.version),
  column('deleted', 'INTEGER NOT NULL DEFAULT 0', (r) => r.deleted),
  column('movie_id', 'TEXT', (_r, b) => b.movie_id),
  column('customer_id', 'TEXT', (_r, b) => b.customer_id),
  column('booking_date', 'INTEGER NOT NULL', (_r, b) => b.booking_date),
  column('booking_date_only', 'TEXT NOT NULL', (_r, b) => b.booking_date_only),
  column('booking_hour', 'INTEGER NOT NULL', (_r, b) => b.booking_hour),
  column('day_of_week', 'INTEGER NOT NULL', (_r, b) => b.day_of_week),
  column('status', 'TEXT NOT NULL', (_r, b) => b.status),
  column('ticket_count', 'INTEGER NOT NULL', (_r, b) => b.ticket_count),
  column('ticket_price_cents', 'INTEGER NOT NULL', (_r, b) => b.ticket_price),
  column('total_amount_cents', 'INTEGER NOT NULL', (_r, b) => b.total_amount),
  column('active_revenue_cents', 'INTEGER NOT NULL', (_r, b) => b.active_revenue),
  column('lost_revenue_cents', 'INTEGER NOT NULL', (_r, b) => b.lost_revenue),
  column('booking_status_category', 'TEXT NOT NULL', (_r, b) => b.booking_status_category),
  column('booking_size_category', 'TEXT NOT NULL', (_r, b) => b.booking_size_category),
  column('price_category', 'TEXT NOT NULL', (_r, b) => b.price_category),
  column('is_valid_booking', 'INTEGER NOT NULL', (r) => r.is_valid_booking),
  column('validation_errors', 'TEXT NOT NULL', (_r, b) => JSON.stringify(b.validation_errors)),
  column('created_at', 'INTEGER NOT NULL', (_r, b) => b.created_at),
  column('updated_at', 'INTEGER NOT NULL', (_r, b) => b.updated_at),
  column('event_id', 'TEXT NOT NULL', (r) => r.event_id ?? null),
  column('event_ts_ms', 'INTEGER NOT NULL', (r) => r.event_ts_ms ?? null),
  // Last, so a database of schema version 1 migrated by ALTER TABLE (schema.ts) has the same layout.
  column('derivation_epoch', 'INTEGER NOT NULL DEFAULT 0', (r) => r.derivation_epoch),
] as const;

export type BookingColumn = (typeof BOOKING_TABLE)[number]['name'];

/** The bookings table's columns, in table order. */
export const BOOKING_COLUMNS: readonly BookingColumn[] = BOOKING_TABLE.map((c) => c.name);

/** The columns of a booking as readers (the UI's API and CSV export) give it: all but the tombstone flag. */
export type BookingRowColumn = Exclude<BookingColumn, 'deleted'>;
export const BOOKING_ROW_COLUMNS: readonly BookingRowColumn[] = BOOKING_COLUMNS.filter(
  (c): c is BookingRowColumn => c !== 'deleted',
);
export type BookingRow = Record<BookingRowColumn, string | number | null>;

/**
 * What the applier keeps of a stored row: the version rule's fields, the tombstone flag and every
 * column a KPI definition reads (a unit test checks that list against the definitions).
 */
export const STATE_COLUMNS = [
  'version',
  'derivation_epoch',
  'deleted',
  'movie_id',
  'status',
  'booking_status_category',
  'booking_size_category',
  'price_category',
  'is_valid_booking',
  'ticket_count',
  'total_amount_cents',
  'active_revenue_cents',
  'lost_revenue_cents',
  'booking_date_only',
  'booking_hour',
] as const satisfies readonly BookingColumn[];
export type StateColumn = (typeof STATE_COLUMNS)[number];

/**
 * The version of a stored row, as the version rule compares it: the booking's version (one per
 * change at the source) and the derivation epoch of the silver record it came from (one per
 * derivation of that change: a backfill re-derives under a newer epoch).
 */
export interface RowVersion {
  version: number;
  derivation_epoch: number;
}

/**
 * How a change relates to the stored row (the contract's "which change wins"):
 * - 'newer': a newer booking version — it becomes the current row, and is an event;
 * - 'rederived': the same version under a newer derivation epoch — it replaces the row's derived
 *   fields (and KPI contribution), and is no event;
 * - 'not-newer': anything else (a duplicate, a stale version or a stale derivation) — skipped.
 */
export type VersionOrder = 'newer' | 'rederived' | 'not-newer';

/** The one place versions are ordered (called by the aggregator's one applier, live and in a rebuild). */
export function versionOrder(version: number, epoch: number, stored: RowVersion): VersionOrder {
  if (version > stored.version) return 'newer';
  // Equal versions are rare on the hot path (a duplicate or a backfill): one more comparison then.
  return version === stored.version && epoch > stored.derivation_epoch ? 'rederived' : 'not-newer';
}

/** The stored state of one booking: exactly the `bookings` columns the KPIs and the version rule need. */
export interface StoredBooking extends RowVersion {
  /** 1 for a tombstone (deleted booking, version kept). */
  deleted: 0 | 1;
  movie_id: string | null;
  status: string;
  booking_status_category: string;
  booking_size_category: string;
  price_category: string;
  is_valid_booking: 0 | 1;
  ticket_count: number;
  total_amount_cents: number;
  active_revenue_cents: number;
  lost_revenue_cents: number;
  booking_date_only: string;
  booking_hour: number;
  /** Set on a row a change produced in this batch (to be written): the enriched image and its event. */
  image?: EnrichedBooking;
  event_id?: string;
  event_ts_ms?: number;
}

// StoredBooking's state fields are exactly STATE_COLUMNS (a compile-time check).
type StateFields = Exclude<keyof StoredBooking, 'image' | 'event_id' | 'event_ts_ms'>;
const stateFieldsMatch: [StateFields] extends [StateColumn]
  ? [StateColumn] extends [StateFields]
    ? true
    : false
  : false = true;
void stateFieldsMatch;

/** The stored row for an enriched image (a live row, or a tombstone with the delete's version). */
export function storedFromImage(
  b: EnrichedBooking,
  version: number,
  epoch: number,
  deleted: 0 | 1,
  eventId: string,
  eventTsMs: number,
): StoredBooking {
  return {
    version,
    derivation_epoch: epoch,
    deleted,
    movie_id: b.movie_id,
    status: b.status,
    booking_status_category: b.booking_status_category,
    booking_size_category: b.booking_size_category,
    price_category: b.price_category,
    is_valid_booking: b.is_valid_booking ? 1 : 0,
    ticket_count: b.ticket_count,
    total_amount_cents: b.total_amount,
    active_revenue_cents: b.active_revenue,
    lost_revenue_cents: b.lost_revenue,
    booking_date_only: b.booking_date_only,
    booking_hour: b.booking_hour,
    image: b,
    event_id: eventId,
    event_ts_ms: eventTsMs,
  };
}

/**
 * A row to be written (it carries its `image`) as the values of BOOKING_COLUMNS, in order.
 * Spelled out for speed (it runs for every written row; calling BOOKING_TABLE's 25 `value`
 * functions costs more); a unit test checks it against BOOKING_TABLE, column by column.
 */
export function bookingValues(row: StoredBooking): (string | number | null)[] {
  const b = row.image as EnrichedBooking;
  return [
    b.booking_id,
    row.version,
    row.deleted,
    b.movie_id,
    b.customer_id,
    b.booking_date,
    b.booking_date_only,
    b.booking_hour,
    b.day_of_week,
    b.status,
    b.ticket_count,
    b.ticket_price,
    b.total_amount,
    b.active_revenue,
    b.lost_revenue,
    b.booking_status_category,
    b.booking_size_category,
    b.price_category,
    row.is_valid_booking,
    JSON.stringify(b.validation_errors),
    b.created_at,
    b.updated_at,
    row.event_id ?? null,
    row.event_ts_ms ?? null,
    row.derivation_epoch,
  ];
}

/** The bookings table's DDL, from BOOKING_TABLE. */
export const BOOKINGS_DDL = `CREATE TABLE IF NOT EXISTS bookings (
  ${BOOKING_TABLE.map((c) => `${c.name} ${c.sql}`).join(',\n  ')}
) WITHOUT ROWID;`;
