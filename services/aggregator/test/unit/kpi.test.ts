import { createDeriver } from '@cdc/enricher';
import { NO_MOVIE_KEY, type Booking, type BookingChange, type EnrichedBookingChange } from '@cdc/core';
import { EMPTY_SOURCE, kpiRow, type MovieState } from '@cdc/read-model';
import { BatchApplier, changeVersion } from '../../src';
import { WORKED_EXAMPLE_TABLE, workedExampleChanges, workedExampleDiff } from '../support/worked-example';

const derive = createDeriver('UTC');
const enrich = (c: BookingChange): EnrichedBookingChange => derive.change(c, 0);

const base: Booking = {
  booking_id: 'B1',
  customer_id: 'C1',
  movie_id: 'M1',
  booking_date: Date.UTC(2025, 8, 3, 10),
  status: 'BOOKED',
  ticket_count: 2,
  ticket_price: 1500,
  created_at: 0,
  updated_at: 0,
  version: 1,
};
const ts = Date.UTC(2025, 8, 4);
let seq = 0;
const change = (
  op: BookingChange['op'],
  before: Booking | null,
  after: Booking | null,
): EnrichedBookingChange =>
  enrich({ event_id: `e${++seq}`, op, before, after, ts_ms: ts + seq, source: { name: 't', seq } });

function run(changes: EnrichedBookingChange[]) {
  const applier = new BatchApplier(EMPTY_SOURCE);
  const outcomes = changes.map((c) => applier.apply(c));
  const delta = applier.finish();
  const row = (key: string) => kpiRow((delta.movies.get(key)?.state as MovieState).counters, 0, 0);
  return { outcomes, delta, row };
}

describe('changeVersion', () => {
  test('after.version for c/u/r, before.version + 1 for d, null when the image is missing', () => {
    const v3 = { ...base, version: 3 };
    expect(changeVersion(change('c', null, v3))).toBe(3);
    expect(changeVersion(change('u', base, v3))).toBe(3);
    expect(changeVersion(change('r', null, v3))).toBe(3);
    expect(changeVersion(change('d', v3, null))).toBe(4);
    expect(changeVersion(change('d', null, null))).toBeNull();
    expect(changeVersion(change('u', base, null))).toBeNull();
  });
});

describe('BatchApplier', () => {
  test("the contract's worked example gives the contract's table", () => {
    const { outcomes, row, delta } = run(workedExampleChanges().map(enrich));
    expect(outcomes.every((o) => o === 'applied')).toBe(true);
    for (const line of WORKED_EXAMPLE_TABLE) expect(workedExampleDiff(row(line.movie_key), line)).toEqual([]);
    for (const w of delta.bookings) {
      expect(w.image?.booking_hour).toBe(10);
      expect(w.image?.day_of_week).toBe(3);
    }
  });

  test('duplicates and stale versions change nothing and are counted as skipped', () => {
    const v2 = { ...base, status: 'CANCELLED', version: 2 };
    const c1 = change('c', null, base);
    const u2 = change('u', base, v2);
    const { outcomes, row } = run([
      c1,
      u2,
      c1,
      u2,
      change('u', base, { ...base, version: 2, ticket_count: 9 }),
    ]);
    expect(outcomes).toEqual(['applied', 'applied', 'skipped', 'skipped', 'skipped']);
    expect(row('M1')).toMatchObject({
      total_bookings: 1,
      cancelled_bookings: 1,
      new_bookings: 1,
      updates: 1,
    });
  });

  test('an update that moves a booking retracts it from the old movie and adds it to the new one', () => {
    const moved = { ...base, movie_id: 'M2', version: 2 };
    const { row } = run([change('c', null, base), change('u', base, moved)]);
    expect(row('M1')).toMatchObject({
      total_bookings: 0,
      valid_bookings: 0,
      booking_days: 0,
      active_hours: 0,
      total_active_revenue_cents: 0,
      new_bookings: 1,
      updates: 0,
      data_quality_score: null,
      avg_revenue_per_active_booking_cents: null,
    });
    expect(row('M2')).toMatchObject({
      total_bookings: 1,
      active_bookings: 1,
      total_active_revenue_cents: 3000,
      booking_days: 1,
      active_hours: 1,
      updates: 1,
      status_changes: 0,
    });
  });

  test('a delete leaves a tombstone that a late stale update cannot revive; a newer create can', () => {
    const v2 = { ...base, version: 2, status: 'CANCELLED' };
    const { outcomes, row, delta } = run([
      change('c', null, base),
      change('d', base, null),
      change('u', base, v2),
      change('c', null, { ...base, version: 3, ticket_count: 1 }),
    ]);
    expect(outcomes).toEqual(['applied', 'applied', 'skipped', 'applied']);
    expect(delta.bookings.find((b) => b.image?.booking_id === 'B1')).toMatchObject({
      version: 3,
      deleted: 0,
      ticket_count: 1,
    });
    expect(row('M1')).toMatchObject({
      total_bookings: 1,
      single_bookings: 1,
      new_bookings: 2,
      deleted_bookings: 1,
    });
  });

  test('invalid records count for data quality only; no movie goes to the (none) row', () => {
    const { row } = run([
      change('c', null, { ...base, ticket_count: 0 }),
      change('c', null, { ...base, booking_id: 'B2', movie_id: null }),
      change('c', null, { ...base, booking_id: 'B3' }),
    ]);
    expect(row('M1')).toMatchObject({
      total_bookings: 2,
      valid_bookings: 1,
      invalid_bookings: 1,
      data_quality_score: 50,
      total_tickets: 2,
      group_bookings: 1,
    });
    expect(row(NO_MOVIE_KEY)).toMatchObject({
      movie_id: null,
      total_bookings: 1,
      invalid_bookings: 1,
      valid_bookings: 0,
    });
  });

  test('distinct days and hours stay exact under retraction', () => {
    const other = { ...base, booking_id: 'B2', booking_date: Date.UTC(2025, 8, 2, 11) };
    const { row } = run([
      change('c', null, base),
      change('c', null, other),
      change('c', null, { ...base, booking_id: 'B3' }),
      change('d', other, null),
      change('u', base, { ...base, version: 2, booking_date: Date.UTC(2025, 8, 3, 12) }),
    ]);
    expect(row('M1')).toMatchObject({ booking_days: 1, active_hours: 2, total_bookings: 2 });
  });

  test('status_changes counts updates whose status changed; snapshot reads are no event', () => {
    const { row } = run([
      change('r', null, base),
      change('u', base, { ...base, version: 2, ticket_count: 3 }),
      change('u', { ...base, version: 2 }, { ...base, version: 3, status: 'CANCELLED' }),
    ]);
    expect(row('M1')).toMatchObject({
      new_bookings: 0,
      updates: 2,
      status_changes: 1,
      cancelled_bookings: 1,
    });
  });
});
