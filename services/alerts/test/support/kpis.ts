import type { MovieKpis } from '@cdc/core';

/** A movie's gold snapshot: zeros but for the given counters, at event time `ts`. */
export function snapshot(movie: string, version: number, ts: number, c: Partial<MovieKpis>): MovieKpis {
  return {
    movie_id: movie,
    total_bookings: 0,
    valid_bookings: 0,
    invalid_bookings: 0,
    data_quality_score: null,
    active_bookings: 0,
    cancelled_bookings: 0,
    total_tickets: 0,
    total_active_revenue_cents: 0,
    total_lost_revenue_cents: 0,
    total_gross_revenue_cents: 0,
    single_bookings: 0,
    group_bookings: 0,
    large_group_bookings: 0,
    budget_bookings: 0,
    standard_bookings: 0,
    premium_bookings: 0,
    cancellation_rate_percent: null,
    active_rate_percent: null,
    avg_revenue_per_active_booking_cents: null,
    booking_days: 0,
    active_hours: 0,
    new_bookings: 0,
    status_changes: 0,
    updates: 0,
    deleted_bookings: 0,
    updated_at: ts,
    last_event_ts_ms: ts,
    snapshot_version: version,
    ...c,
  };
}
