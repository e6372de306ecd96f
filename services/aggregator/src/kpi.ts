import { NO_MOVIE_KEY, type EnrichedBooking, type EnrichedBookingChange, type MovieKpis } from '@cdc/core';

/**
 * The pure core of the aggregator: what one booking row contributes to its movie's KPIs, the
 * version rule, and how the KPI row is derived from the counters. No I/O here.
 *
 * Definitions (the contract's, made precise):
 * - A booking row belongs to the movie `movie_id`, or to NO_MOVIE_KEY ('(none)') when it has none.
 * - total/valid/invalid count every current (not deleted) row; everything else counts VALID rows
 *   only: active (status category ACTIVE), cancelled (INACTIVE), revenues (sums of
 *   active_revenue, lost_revenue and total_amount — so gross = the sum of total_amount over valid
 *   bookings, which includes bookings of an UNKNOWN status), size and price categories,
 *   total_tickets (sum of ticket_count), booking_days (distinct booking_date_only) and
 *   active_hours (distinct booking_hour).
 * - Rates and ratios are derived from the counters and rounded half-up to 2 decimals, exactly
 *   (integer arithmetic, see `ratio2`); null when the denominator is 0.
 */

/** The stored state of one booking: exactly the `bookings` columns the KPIs need. */
export interface StoredBooking {
  version: number;
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

/** movie_kpis columns that are plain counters (sums), in table order. */
export const COUNTER_COLUMNS = [
  'total_bookings',
  'valid_bookings',
  'invalid_bookings',
  'active_bookings',
  'cancelled_bookings',
  'total_tickets',
  'total_active_revenue_cents',
  'total_lost_revenue_cents',
  'total_gross_revenue_cents',
  'single_bookings',
  'group_bookings',
  'large_group_bookings',
  'budget_bookings',
  'standard_bookings',
  'premium_bookings',
  'booking_days',
  'active_hours',
  'new_bookings',
  'status_changes',
  'updates',
  'deleted_bookings',
  'last_event_ts_ms',
] as const;
export type CounterColumn = (typeof COUNTER_COLUMNS)[number];

/** Event counters: they only grow, and count applied changes only. */
export const EVENT_COUNTER_COLUMNS = [
  'new_bookings',
  'status_changes',
  'updates',
  'deleted_bookings',
] as const;

export type MovieCounters = { movie_key: string; movie_id: string | null } & Record<CounterColumn, number>;

/** A movie_kpis row: the counters plus the derived KPIs and bookkeeping. */
export type MovieKpiRow = MovieKpis & { movie_key: string };

export const movieKeyOf = (movieId: string | null): string => movieId ?? NO_MOVIE_KEY;

export function emptyCounters(movieKey: string): MovieCounters {
  const c = { movie_key: movieKey, movie_id: movieKey === NO_MOVIE_KEY ? null : movieKey } as MovieCounters;
  for (const col of COUNTER_COLUMNS) c[col] = 0;
  return c;
}

/** What the version rule reads of a change (a full change, or a rebuild's `ReplayHead`). */
export interface VersionedChange {
  op: EnrichedBookingChange['op'];
  before: Pick<EnrichedBooking, 'booking_id' | 'version'> | null;
  after: Pick<EnrichedBooking, 'booking_id' | 'version'> | null;
}

/**
 * The version of a change: after.version for c/u/r, before.version + 1 for d. Null when the
 * change lacks the image its op needs (malformed: it cannot be applied).
 */
export function changeVersion(change: VersionedChange): number | null {
  if (change.op === 'd') return change.before ? change.before.version + 1 : null;
  return change.after ? change.after.version : null;
}

/** The booking a change is about. */
export const changeBookingId = (change: VersionedChange): string | undefined =>
  (change.op === 'd' ? change.before : change.after)?.booking_id;

/** The stored row for an enriched image (a live row, or a tombstone with the delete's version). */
export function storedFromImage(
  b: EnrichedBooking,
  version: number,
  deleted: 0 | 1,
  eventId: string,
  eventTsMs: number,
): StoredBooking {
  return {
    version,
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
 * Adds (sign 1) or retracts (sign -1) one live row's contribution to its movie's counters.
 * The distinct KPIs (booking_days, active_hours) are kept by the caller's reference counts.
 */
export function contribute(c: MovieCounters, b: StoredBooking, sign: 1 | -1): void {
  c.total_bookings += sign;
  if (b.is_valid_booking !== 1) {
    c.invalid_bookings += sign;
    return;
  }
  c.valid_bookings += sign;
  if (b.booking_status_category === 'ACTIVE') c.active_bookings += sign;
  else if (b.booking_status_category === 'INACTIVE') c.cancelled_bookings += sign;
  c.total_tickets += sign * b.ticket_count;
  c.total_active_revenue_cents += sign * b.active_revenue_cents;
  c.total_lost_revenue_cents += sign * b.lost_revenue_cents;
  c.total_gross_revenue_cents += sign * b.total_amount_cents;
  switch (b.booking_size_category) {
    case 'SINGLE':
      c.single_bookings += sign;
      break;
    case 'GROUP':
      c.group_bookings += sign;
      break;
    case 'LARGE_GROUP':
      c.large_group_bookings += sign;
      break;
  }
  switch (b.price_category) {
    case 'BUDGET':
      c.budget_bookings += sign;
      break;
    case 'STANDARD':
      c.standard_bookings += sign;
      break;
    case 'PREMIUM':
      c.premium_bookings += sign;
      break;
  }
}

/** Exact floor(a / b) for non-negative safe integers a and positive b. */
export function floorDiv(a: number, b: number): number {
  let q = Math.floor(a / b);
  if (q * b > a) q -= 1;
  else if ((q + 1) * b <= a) q += 1;
  return q;
}

/**
 * num / den × scale, rounded half-up to 2 decimals with integer arithmetic (no binary
 * floating-point surprises: 201/20000 × 100 is 1.01, not 1.00). Null when den is 0.
 */
export function ratio2(num: number, den: number, scale: number): number | null {
  if (den === 0) return null;
  return floorDiv(200 * scale * num + den, 2 * den) / 100;
}

/** The movie_kpis row (and gold snapshot) for a movie's counters. */
export function kpiRow(c: MovieCounters, updatedAt: number, snapshotVersion: number): MovieKpiRow {
  return {
    movie_key: c.movie_key,
    movie_id: c.movie_id,
    total_bookings: c.total_bookings,
    valid_bookings: c.valid_bookings,
    invalid_bookings: c.invalid_bookings,
    data_quality_score: ratio2(c.valid_bookings, c.total_bookings, 100),
    active_bookings: c.active_bookings,
    cancelled_bookings: c.cancelled_bookings,
    total_tickets: c.total_tickets,
    total_active_revenue_cents: c.total_active_revenue_cents,
    total_lost_revenue_cents: c.total_lost_revenue_cents,
    total_gross_revenue_cents: c.total_gross_revenue_cents,
    single_bookings: c.single_bookings,
    group_bookings: c.group_bookings,
    large_group_bookings: c.large_group_bookings,
    budget_bookings: c.budget_bookings,
    standard_bookings: c.standard_bookings,
    premium_bookings: c.premium_bookings,
    cancellation_rate_percent: ratio2(c.cancelled_bookings, c.valid_bookings, 100),
    active_rate_percent: ratio2(c.active_bookings, c.valid_bookings, 100),
    avg_revenue_per_active_booking_cents: ratio2(c.total_active_revenue_cents, c.active_bookings, 1),
    booking_days: c.booking_days,
    active_hours: c.active_hours,
    new_bookings: c.new_bookings,
    status_changes: c.status_changes,
    updates: c.updates,
    deleted_bookings: c.deleted_bookings,
    updated_at: updatedAt,
    last_event_ts_ms: c.last_event_ts_ms,
    snapshot_version: snapshotVersion,
  };
}

/** The counters of a stored movie_kpis row. */
export function countersFromRow(row: Record<string, unknown>): MovieCounters {
  const c = { movie_key: row.movie_key as string, movie_id: row.movie_id as string | null } as MovieCounters;
  for (const col of COUNTER_COLUMNS) c[col] = row[col] as number;
  return c;
}

/** The MovieKpis gold value of a row (without movie_key, which is the Kafka key). */
export function goldValue(row: MovieKpiRow): MovieKpis {
  const { movie_key: _key, ...value } = row;
  return value;
}
