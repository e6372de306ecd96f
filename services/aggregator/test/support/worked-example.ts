import type { Booking, BookingChange } from '@cdc/core';

/**
 * The contract's worked example (the seed's script): five bookings created BOOKED on 2025-09-03
 * between 10:00 and 10:25 UTC (a Wednesday), then B001 and B003 cancelled.
 */
const at = (h: number, m: number, s = 0) => Date.UTC(2025, 8, 3, h, m, s);

function booking(id: string, movie: string, count: number, priceCents: number, minute: number): Booking {
  return {
    booking_id: id,
    customer_id: `C${id.slice(1)}`,
    movie_id: movie,
    booking_date: at(10, minute),
    status: 'BOOKED',
    ticket_count: count,
    ticket_price: priceCents,
    created_at: at(10, minute),
    updated_at: at(10, minute),
    version: 1,
  };
}

export function workedExampleChanges(): BookingChange[] {
  const created = [
    booking('B001', 'M001', 2, 1500, 0),
    booking('B002', 'M002', 1, 1200, 5),
    booking('B003', 'M003', 3, 2000, 10),
    booking('B004', 'M004', 4, 2500, 20),
    booking('B005', 'M005', 1, 1000, 25),
  ];
  let seq = 0;
  const changes: BookingChange[] = created.map((b) => ({
    event_id: `seed-${++seq}`,
    op: 'c',
    before: null,
    after: b,
    ts_ms: b.booking_date + 1000,
    source: { name: 'seed', seq },
  }));
  for (const [b, minute] of [
    [created[0], 40],
    [created[2], 45],
  ] as const) {
    const before = b as Booking;
    const after: Booking = { ...before, status: 'CANCELLED', version: 2, updated_at: at(10, minute) };
    changes.push({
      event_id: `seed-${++seq}`,
      op: 'u',
      before,
      after,
      ts_ms: at(10, minute, 1),
      source: { name: 'seed', seq },
    });
  }
  return changes;
}

/** The contract's table, in the aggregator's columns (money in cents). */
export const WORKED_EXAMPLE_TABLE = [
  {
    movie_key: 'M001',
    total: 1,
    active: 0,
    cancelled: 1,
    activeRev: 0,
    lostRev: 3000,
    size: 'group',
    price: 'standard',
    cancelPct: 100,
    statusChanges: 1,
  },
  {
    movie_key: 'M002',
    total: 1,
    active: 1,
    cancelled: 0,
    activeRev: 1200,
    lostRev: 0,
    size: 'single',
    price: 'standard',
    cancelPct: 0,
    statusChanges: 0,
  },
  {
    movie_key: 'M003',
    total: 1,
    active: 0,
    cancelled: 1,
    activeRev: 0,
    lostRev: 6000,
    size: 'group',
    price: 'standard',
    cancelPct: 100,
    statusChanges: 1,
  },
  {
    movie_key: 'M004',
    total: 1,
    active: 1,
    cancelled: 0,
    activeRev: 10000,
    lostRev: 0,
    size: 'group',
    price: 'premium',
    cancelPct: 0,
    statusChanges: 0,
  },
  {
    movie_key: 'M005',
    total: 1,
    active: 1,
    cancelled: 0,
    activeRev: 1000,
    lostRev: 0,
    size: 'single',
    price: 'standard',
    cancelPct: 0,
    statusChanges: 0,
  },
] as const;

type Row = Record<string, unknown>;

/** Checks a movie_kpis row against one line of the contract's table; returns the differences. */
export function workedExampleDiff(actual: object, expected: (typeof WORKED_EXAMPLE_TABLE)[number]): string[] {
  const row = actual as Row;
  const want: Row = {
    total_bookings: expected.total,
    valid_bookings: expected.total,
    invalid_bookings: 0,
    data_quality_score: 100,
    active_bookings: expected.active,
    cancelled_bookings: expected.cancelled,
    total_active_revenue_cents: expected.activeRev,
    total_lost_revenue_cents: expected.lostRev,
    total_gross_revenue_cents: expected.activeRev + expected.lostRev,
    single_bookings: expected.size === 'single' ? 1 : 0,
    group_bookings: expected.size === 'group' ? 1 : 0,
    large_group_bookings: 0,
    budget_bookings: 0,
    standard_bookings: expected.price === 'standard' ? 1 : 0,
    premium_bookings: expected.price === 'premium' ? 1 : 0,
    cancellation_rate_percent: expected.cancelPct,
    active_rate_percent: 100 - expected.cancelPct,
    avg_revenue_per_active_booking_cents: expected.active ? expected.activeRev : null,
    booking_days: 1,
    active_hours: 1,
    new_bookings: 1,
    status_changes: expected.statusChanges,
    updates: expected.statusChanges,
    deleted_bookings: 0,
  };
  return Object.entries(want)
    .filter(([k, v]) => row[k] !== v)
    .map(([k, v]) => `${expected.movie_key}.${k}: got ${String(row[k])}, want ${String(v)}`);
}
