import type { BookingChange } from '@cdc/core';
import { createRandom } from '@cdc/bookings';

/**
 * Booking changes as SQL on the source table (`sql/raw_movie_bookings.sql`): a create is an
 * INSERT, an update or a cancellation an UPDATE of every column of the row, a delete a DELETE.
 * The row then holds the change's `after` image exactly: its times are the change's (`created_at`,
 * `updated_at`), its money the change's cents written as exact numeric text, never a float.
 * `total_amount` is the table's own computed column. Pure: no I/O here.
 */
export const SOURCE_TABLE = 'raw_movie_bookings';

export interface Statement {
  text: string;
  values: (string | number | null)[];
}

/** Integer cents as exact decimal text: 1550 → '15.50', -5 → '-0.05'. */
export function centsToNumeric(cents: number): string {
  if (!Number.isSafeInteger(cents)) throw new RangeError(`not a whole number of cents: ${cents}`);
  const abs = Math.abs(cents);
  return `${cents < 0 ? '-' : ''}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

const iso = (ms: number): string => new Date(ms).toISOString();

const INSERT = `INSERT INTO ${SOURCE_TABLE}
  (booking_id, customer_id, movie_id, booking_date, status, ticket_count, ticket_price, created_at, updated_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`;
const UPDATE = `UPDATE ${SOURCE_TABLE} SET customer_id = $2, movie_id = $3, booking_date = $4, status = $5,
  ticket_count = $6, ticket_price = $7, updated_at = $8 WHERE booking_id = $1`;
const DELETE = `DELETE FROM ${SOURCE_TABLE} WHERE booking_id = $1`;

/** The statement that makes the table hold `change.after` (or no row, for a delete). */
export function changeStatement(change: BookingChange): Statement {
  if (change.op === 'd') return { text: DELETE, values: [change.before!.booking_id] };
  const b = change.after!;
  const row = [
    b.booking_id,
    b.customer_id,
    b.movie_id,
    iso(b.booking_date),
    b.status,
    b.ticket_count,
    centsToNumeric(b.ticket_price),
  ];
  if (change.op === 'c') return { text: INSERT, values: [...row, iso(b.created_at), iso(b.updated_at)] };
  return { text: UPDATE, values: [...row, iso(b.updated_at)] };
}

/**
 * How consecutive changes are grouped into transactions: each transaction takes the next 1 to
 * `max` changes in the generator's order (uniformly, drawn from the run's seed, so the same seed
 * gives the same transactions). A transaction may so create a booking and cancel it, or change
 * one booking several times, as booking applications do.
 */
export function createTransactionSizes(seed: number, max: number): () => number {
  // A stream of its own (the seed's bits flipped): the generator's stream stays as without SQL.
  const r = createRandom((seed ^ 0x5eed5a1e) >>> 0);
  return () => (max <= 1 ? 1 : r.int(1, max));
}

/** The booking number after the highest generated id (`B000123`) the table holds, or 1. */
export const NEXT_BOOKING_NUMBER_SQL = `SELECT coalesce(max(substring(booking_id FROM '^B([0-9]{1,15})$')::bigint), 0) + 1 AS next
  FROM ${SOURCE_TABLE}`;
