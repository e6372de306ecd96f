import type { Booking, BookingChange, Op } from '@cdc/core';

/**
 * Debezium's change events of `raw_movie_bookings` (PostgreSQL connector, pgoutput, Kafka's
 * JsonConverter without schemas, `decimal.handling.mode=string`) turned into the contract's
 * `BookingChange`. Pure: the capture stage calls it per record.
 *
 * The source position is the change's LSN (`source.lsn`), which increases along the WAL: it is
 * the change's `source.seq` and its `version`. Row locks order the changes of one booking, so its
 * LSNs increase too, and a change Debezium delivers again (at least once) carries the same LSN,
 * the same version and the same `event_id`: the aggregator's version rule skips it.
 *
 * Snapshot rows (`r`) get version 1, below every LSN, not the snapshot's LSN: a transaction open
 * while the snapshot was taken commits after it and is streamed after it, but its changes were
 * written to the WAL, and got their LSNs, before the snapshot's position; they must still win
 * over the row the snapshot read. They share the snapshot's LSN, so their `event_id` adds the
 * booking id. A snapshot read again (a connector restarted mid-snapshot) is then skipped as a
 * duplicate, or, when the row changed since, stale.
 */
export type Decoded =
  | { kind: 'change'; change: BookingChange }
  /** A TRUNCATE, or a message Debezium sends that is no row change: nothing for bronze. */
  | { kind: 'skip'; reason: 'truncate' | 'not-a-change' };

/** A record that cannot become a `BookingChange` (it goes to the dead-letter topic). */
export class UndecodableChange extends Error {}

interface DebeziumRow {
  [column: string]: unknown;
}

interface DebeziumEnvelope {
  op?: unknown;
  before?: DebeziumRow | null;
  after?: DebeziumRow | null;
  ts_ms?: unknown;
  source?: { lsn?: unknown; ts_ms?: unknown; snapshot?: unknown; name?: unknown };
}

/** The version of a row read by the snapshot: older than any change streamed after it. */
export const SNAPSHOT_VERSION = 1;

const OPS: Readonly<Record<string, Op>> = { c: 'c', u: 'u', d: 'd', r: 'r' };

/** Decodes one record's value (UTF-8 JSON). A null value (a tombstone) is not a change. */
export function decodeDebeziumChange(value: Buffer | null, sourceName: string): Decoded {
  if (value === null || value.length === 0) return { kind: 'skip', reason: 'not-a-change' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch (err) {
    throw new UndecodableChange(`not JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null) throw new UndecodableChange('not a JSON object');
  // With schemas.enable=true the envelope sits under `payload`.
  const env = ('payload' in parsed ? parsed.payload : parsed) as DebeziumEnvelope;
  if (env.op === 't') return { kind: 'skip', reason: 'truncate' };
  const op = typeof env.op === 'string' ? OPS[env.op] : undefined;
  if (!op) throw new UndecodableChange(`unknown op ${JSON.stringify(env.op)}`);
  const lsn = integer(env.source?.lsn, 'source.lsn');
  const tsMs = integer(env.source?.ts_ms ?? env.ts_ms, 'source.ts_ms');
  const before = op === 'u' || op === 'd' ? booking(env.before, 'before', lsn - 1) : null;
  const after = op === 'd' ? null : booking(env.after, 'after', op === 'r' ? SNAPSHOT_VERSION : lsn);
  const id = (after ?? before)!.booking_id;
  return {
    kind: 'change',
    change: {
      event_id: op === 'r' ? `${sourceName}:${lsn}:${id}` : `${sourceName}:${lsn}`,
      op,
      before,
      after,
      ts_ms: tsMs,
      source: { name: sourceName, seq: lsn },
    },
  };
}

function booking(row: DebeziumRow | null | undefined, image: string, version: number): Booking {
  if (!row || typeof row !== 'object')
    throw new UndecodableChange(`${image} image missing (is the table's REPLICA IDENTITY FULL?)`);
  const field = (name: string) => `${image}.${name}`;
  return {
    booking_id: text(row.booking_id, field('booking_id')),
    customer_id: nullableText(row.customer_id, field('customer_id')),
    movie_id: nullableText(row.movie_id, field('movie_id')),
    booking_date: timestampMs(row.booking_date, field('booking_date')),
    status: text(row.status, field('status')),
    ticket_count: integer(row.ticket_count, field('ticket_count')),
    ticket_price: cents(row.ticket_price, field('ticket_price')),
    created_at: timestampMs(row.created_at, field('created_at')),
    updated_at: timestampMs(row.updated_at, field('updated_at')),
    version,
  };
}

function text(v: unknown, field: string): string {
  if (typeof v !== 'string') throw new UndecodableChange(`${field}: expected text, got ${JSON.stringify(v)}`);
  return v;
}

function nullableText(v: unknown, field: string): string | null {
  return v === null || v === undefined ? null : text(v, field);
}

function integer(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v))
    throw new UndecodableChange(`${field}: expected an integer, got ${JSON.stringify(v)}`);
  return v;
}

/** timestamptz arrives as ISO-8601 text in UTC (Debezium's ZonedTimestamp); microseconds are cut to ms. */
function timestampMs(v: unknown, field: string): number {
  const ms = typeof v === 'string' ? Date.parse(v) : NaN;
  if (!Number.isFinite(ms))
    throw new UndecodableChange(`${field}: expected a timestamp, got ${JSON.stringify(v)}`);
  return ms;
}

const DECIMAL = /^(-?)(\d+)(?:\.(\d{1,2}))?$/;

/**
 * numeric arrives as its exact decimal text (decimal.handling.mode=string): "15.5" → 1550 cents,
 * with integer arithmetic. More than two decimals cannot be exact cents: undecodable.
 */
export function cents(v: unknown, field: string): number {
  const m = typeof v === 'string' ? DECIMAL.exec(v) : null;
  if (!m)
    throw new UndecodableChange(
      `${field}: expected a decimal with at most 2 places, got ${JSON.stringify(v)}`,
    );
  const value = Number(m[2]) * 100 + Number((m[3] ?? '').padEnd(2, '0'));
  if (!Number.isSafeInteger(value)) throw new UndecodableChange(`${field}: ${String(v)} is too large`);
  return m[1] === '-' && value !== 0 ? -value : value;
}
