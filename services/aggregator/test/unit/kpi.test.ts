import { createDeriver } from '@cdc/bookings';
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

describe('BatchApplier: re-derivations (same version, newer derivation epoch)', () => {
  const newYork = createDeriver('America/New_York', { epoch: 1 });
  const utc1 = createDeriver('UTC', { epoch: 1 });
  const rederive = (c: EnrichedBookingChange, d = newYork): EnrichedBookingChange => d.change(c, 0);

  test('replaces the derived fields and the KPI contribution; the event counters do not move', () => {
    const c1 = change('c', null, base);
    const u2 = change('u', base, { ...base, version: 2, status: 'CANCELLED' });
    const { outcomes, row, delta } = run([c1, u2, rederive(u2)]);
    expect(outcomes).toEqual(['applied', 'applied', 'applied']);
    expect(delta.rederived).toBe(1);
    expect(delta.bookings.map((b) => [b.version, b.derivation_epoch, b.booking_hour])).toEqual([[2, 1, 6]]);
    // 10:00 UTC is 06:00 in New York: one active hour, the new one; one update, one status change.
    expect(row('M1')).toMatchObject({
      active_hours: 1,
      cancelled_bookings: 1,
      updates: 1,
      status_changes: 1,
    });
    expect(delta.movies.get('M1')?.state.hours).toEqual(
      new Map([
        [10, 0],
        [6, 1],
      ]),
    );
  });

  test('a stale derivation or a duplicate re-derivation is skipped; an older version under a newer epoch too', () => {
    const c1 = change('c', null, base);
    const u2 = change('u', base, { ...base, version: 2 });
    const { outcomes, row, delta } = run([c1, u2, rederive(u2), u2, rederive(u2), rederive(c1)]);
    expect(outcomes).toEqual(['applied', 'applied', 'applied', 'skipped', 'skipped', 'skipped']);
    expect(delta.rederived).toBe(1);
    expect(delta.skipped).toBe(3);
    expect(row('M1')).toMatchObject({ active_hours: 1, new_bookings: 1, updates: 1, total_bookings: 1 });
    expect(delta.bookings[0]?.booking_hour).toBe(6);
  });

  test('a re-derivation arriving before its original is the version advance; the original is then stale', () => {
    const c1 = change('c', null, base);
    const { outcomes, row } = run([rederive(c1), c1]);
    expect(outcomes).toEqual(['applied', 'skipped']);
    expect(row('M1')).toMatchObject({ new_bookings: 1, active_hours: 1, total_bookings: 1 });
  });

  test('validity and categories may change under new rules: the whole contribution is replaced', () => {
    const c1 = change('c', null, base);
    // Another rules version could judge the same booking differently: invalid and LARGE_GROUP here.
    const stricter = { ...utc1.change(c1, 0) };
    stricter.after = {
      ...(stricter.after as NonNullable<EnrichedBookingChange['after']>),
      is_valid_booking: false,
      validation_errors: ['a_new_rule'],
      booking_size_category: 'LARGE_GROUP',
    };
    const first = run([c1]).row('M1');
    expect(first).toMatchObject({ valid_bookings: 1, group_bookings: 1, total_active_revenue_cents: 3000 });
    const { row } = run([c1, stricter]);
    expect(row('M1')).toMatchObject({
      total_bookings: 1,
      valid_bookings: 0,
      invalid_bookings: 1,
      group_bookings: 0,
      large_group_bookings: 0,
      total_active_revenue_cents: 0,
      active_hours: 0,
      booking_days: 0,
      new_bookings: 1,
    });
  });

  test("a re-derived delete replaces the tombstone's derived fields and stays a tombstone", () => {
    const c1 = change('c', null, base);
    const d2 = change('d', base, null);
    const { outcomes, row, delta } = run([c1, d2, rederive(d2), rederive(c1)]);
    expect(outcomes).toEqual(['applied', 'applied', 'applied', 'skipped']);
    expect(delta.bookings.map((b) => [b.version, b.derivation_epoch, b.deleted, b.booking_hour])).toEqual([
      [2, 1, 1, 6],
    ]);
    expect(row('M1')).toMatchObject({
      total_bookings: 0,
      new_bookings: 1,
      deleted_bookings: 1,
      active_hours: 0,
    });
  });
});
