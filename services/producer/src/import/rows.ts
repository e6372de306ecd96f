import type { Booking } from '@cdc/core';
import type { ImportField } from './columns';
import { decimalToCents, parseWholeNumber } from './decimal';
import type { TimestampParser } from './timestamps';

/**
 * One input row to a booking, or the reason it cannot be one. Bad *data* is imported as it is
 * (null customer or movie ids, counts or prices of zero or less, booking dates in the future: the
 * enricher flags them, as for any change); only a row that cannot become a `Booking` at all is
 * rejected: no booking_id, a number or timestamp that does not parse, a missing required value,
 * the wrong number of columns.
 */
export type ImportedBooking = Omit<Booking, 'version'>;

export type RowResult =
  | {
      ok: true;
      booking: ImportedBooking;
      /** total_amount given and ≠ count × price */ totalMismatch: boolean;
    }
  | { ok: false; reason: string };

/** A row's value for a field: null when empty or a null marker, undefined when the input has no such column. */
export type FieldReader = (field: ImportField) => string | null | undefined;

/** What exports write for SQL NULL: an empty field, NULL, or \N (PostgreSQL's and MySQL's COPY). */
export function isNullToken(s: string): boolean {
  const t = s.trim();
  return t === '' || t === '\\N' || t === 'NULL' || t === 'null';
}

export function parseRow(read: FieldReader, parseTimestamp: TimestampParser): RowResult {
  const missing = (field: string): RowResult => ({ ok: false, reason: `${field} is missing` });
  const bookingId = read('booking_id');
  if (bookingId == null) return missing('booking_id');

  const dateText = read('booking_date');
  if (dateText == null) return missing('booking_date');
  const date = parseTimestamp(dateText);
  if (!date.ok) return { ok: false, reason: `booking_date: ${date.reason}` };

  const status = read('status');
  if (status == null) return missing('status');

  const countText = read('ticket_count');
  if (countText == null) return missing('ticket_count');
  const count = parseWholeNumber(countText);
  if (!count.ok) return { ok: false, reason: `ticket_count: ${count.reason}` };

  const priceText = read('ticket_price');
  if (priceText == null) return missing('ticket_price');
  const price = decimalToCents(priceText);
  if (!price.ok) return { ok: false, reason: `ticket_price: ${price.reason}` };

  let createdAt = date.ms;
  const createdText = read('created_at');
  if (createdText != null) {
    const t = parseTimestamp(createdText);
    if (!t.ok) return { ok: false, reason: `created_at: ${t.reason}` };
    createdAt = t.ms;
  }
  let updatedAt = createdAt;
  const updatedText = read('updated_at');
  if (updatedText != null) {
    const t = parseTimestamp(updatedText);
    if (!t.ok) return { ok: false, reason: `updated_at: ${t.reason}` };
    updatedAt = t.ms;
  }

  let totalMismatch = false;
  const totalText = read('total_amount');
  if (totalText != null) {
    // Derived by the enricher from count × price; the export's own value is only checked.
    const total = decimalToCents(totalText);
    totalMismatch = !total.ok || total.cents !== count.value * price.cents;
  }

  return {
    ok: true,
    totalMismatch,
    booking: {
      booking_id: bookingId,
      customer_id: read('customer_id') ?? null,
      movie_id: read('movie_id') ?? null,
      booking_date: date.ms,
      status,
      ticket_count: count.value,
      ticket_price: price.cents,
      created_at: createdAt,
      updated_at: updatedAt,
    },
  };
}

/** Whether two bookings say the same (the version aside). */
export function sameBooking(a: ImportedBooking, b: ImportedBooking): boolean {
  return (
    a.booking_id === b.booking_id &&
    a.customer_id === b.customer_id &&
    a.movie_id === b.movie_id &&
    a.booking_date === b.booking_date &&
    a.status === b.status &&
    a.ticket_count === b.ticket_count &&
    a.ticket_price === b.ticket_price &&
    a.created_at === b.created_at &&
    a.updated_at === b.updated_at
  );
}
