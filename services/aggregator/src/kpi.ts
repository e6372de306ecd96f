import type { EnrichedBooking, EnrichedBookingChange } from '@cdc/core';
import type { MovieCounters, StoredBooking } from '@cdc/read-model';

/**
 * The aggregator's pure core: the version of a change and what one booking row contributes to
 * its movie's counters. The KPIs themselves are defined as data in @cdc/read-model
 * (KPI_DEFINITIONS); `contribute` is their hand-written, incremental form (it runs twice per
 * change), and a unit test checks it against the definitions, definition by definition
 * (test/unit/kpi-definitions.test.ts). No I/O here.
 *
 * A booking row belongs to the movie `movie_id`, or to NO_MOVIE_KEY ('(none)') when it has none.
 */

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

/**
 * Adds (sign 1) or retracts (sign -1) one live row's contribution to its movie's row KPIs that
 * are counts and sums. The distinct KPIs (booking_days, active_hours) are kept by the caller's
 * reference counts.
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
