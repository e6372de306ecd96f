import type { Booking, BookingChange } from '@cdc/core';
import {
  createDeriver,
  priceCategory,
  RULES_VERSION,
  sizeCategory,
  statusCategory,
  validate,
  VALIDATION_RULES,
} from '../../src';

const AT = Date.UTC(2025, 8, 3, 10, 0); // Wednesday 2025-09-03 10:00 UTC

const booking = (over: Partial<Booking> = {}): Booking => ({
  booking_id: 'B001',
  customer_id: 'C1',
  movie_id: 'M001',
  booking_date: AT,
  status: 'BOOKED',
  ticket_count: 2,
  ticket_price: 1500,
  created_at: AT,
  updated_at: AT,
  version: 1,
  ...over,
});

const change = (over: Partial<BookingChange> = {}): BookingChange => ({
  event_id: 'e-1',
  op: 'c',
  before: null,
  after: booking(),
  ts_ms: AT + 1000,
  source: { name: 'test', seq: 1 },
  ...over,
});

const utc = createDeriver();

describe('price_category and total_amount (exact cents)', () => {
  it.each([
    [999, 'BUDGET'],
    [1000, 'STANDARD'],
    [2000, 'STANDARD'],
    [2001, 'PREMIUM'],
    [1, 'BUDGET'],
  ])('%i cents is %s', (cents, category) => {
    expect(priceCategory(cents)).toBe(category);
    const e = utc.image(booking({ ticket_price: cents, ticket_count: 3 }), AT);
    expect(e.price_category).toBe(category);
    expect(e.total_amount).toBe(3 * cents);
  });

  it('the contract prices 9.99 / 10.00 / 20.00 / 20.01 are 999 / 1000 / 2000 / 2001 cents', () => {
    const toCents = (price: string): number => Math.round(Number(price) * 100);
    expect(['9.99', '10.00', '20.00', '20.01'].map(toCents)).toEqual([999, 1000, 2000, 2001]);
    expect([999, 1000, 2000, 2001].map(priceCategory)).toEqual(['BUDGET', 'STANDARD', 'STANDARD', 'PREMIUM']);
  });

  it('a price that is not positive has no category and makes the booking invalid', () => {
    for (const cents of [0, -1, -2500]) {
      const e = utc.image(booking({ ticket_price: cents }), AT);
      expect(e.price_category).toBe('UNKNOWN');
      expect(e.is_valid_booking).toBe(false);
      expect(e.validation_errors).toEqual(['ticket_price_not_positive']);
    }
  });

  it('sums money exactly: 3 x 19.99 is 5997 cents, not 59.97000000000001', () => {
    expect(utc.image(booking({ ticket_count: 3, ticket_price: 1999 }), AT).total_amount).toBe(5997);
  });

  it('no tickets at a negative price is 0 cents, not -0 (the wire has no -0; found by TEST_SEED=402353091)', () => {
    const e = utc.image(booking({ ticket_count: 0, ticket_price: -2500 }), AT);
    expect(Object.is(e.total_amount, 0)).toBe(true);
    expect(Object.is(e.active_revenue, 0)).toBe(true);
  });
});

describe('booking_size_category', () => {
  it.each([
    [0, 'UNKNOWN'],
    [1, 'SINGLE'],
    [2, 'GROUP'],
    [4, 'GROUP'],
    [5, 'LARGE_GROUP'],
    [-3, 'UNKNOWN'],
  ])('%i tickets is %s', (count, category) => {
    expect(sizeCategory(count)).toBe(category);
    expect(utc.image(booking({ ticket_count: count }), AT).booking_size_category).toBe(category);
  });

  it.each([
    [0, false],
    [1, true],
    [2, true],
    [4, true],
    [5, true],
  ])('%i tickets: valid %s', (count, valid) => {
    const e = utc.image(booking({ ticket_count: count }), AT);
    expect(e.is_valid_booking).toBe(valid);
    expect(e.validation_errors).toEqual(valid ? [] : ['ticket_count_not_positive']);
    expect(e.total_amount).toBe(count * 1500);
  });
});

describe('status, revenue', () => {
  it('BOOKED is ACTIVE with active revenue', () => {
    const e = utc.image(booking({ status: 'BOOKED', ticket_count: 2, ticket_price: 1500 }), AT);
    expect(e).toMatchObject({
      booking_status_category: 'ACTIVE',
      total_amount: 3000,
      active_revenue: 3000,
      lost_revenue: 0,
    });
  });

  it('CANCELLED is INACTIVE with lost revenue', () => {
    const e = utc.image(booking({ status: 'CANCELLED', ticket_count: 3, ticket_price: 2000 }), AT);
    expect(e).toMatchObject({
      booking_status_category: 'INACTIVE',
      total_amount: 6000,
      active_revenue: 0,
      lost_revenue: 6000,
    });
  });

  it.each(['PENDING', 'booked', '', 'REFUNDED'])('unknown status %j is UNKNOWN with no revenue', (status) => {
    expect(statusCategory(status)).toBe('UNKNOWN');
    const e = utc.image(booking({ status }), AT);
    expect(e).toMatchObject({ booking_status_category: 'UNKNOWN', active_revenue: 0, lost_revenue: 0 });
    // An unknown status is not a validation error: the booking is still valid data.
    expect(e.is_valid_booking).toBe(true);
  });
});

describe('is_valid_booking and validation_errors', () => {
  it('a complete booking is valid with no errors', () => {
    const e = utc.image(booking(), AT + 1);
    expect(e.is_valid_booking).toBe(true);
    expect(e.validation_errors).toEqual([]);
  });

  it.each([
    ['customer_id', { customer_id: null }, 'customer_id_missing'],
    ['movie_id', { movie_id: null }, 'movie_id_missing'],
    ['booking_id (empty)', { booking_id: '' }, 'booking_id_missing'],
    ['booking_id (null)', { booking_id: null as unknown as string }, 'booking_id_missing'],
  ])('a null %s is invalid', (_name, over: Partial<Booking>, rule) => {
    const e = utc.image(booking(over), AT);
    expect(e.is_valid_booking).toBe(false);
    expect(e.validation_errors).toEqual([rule]);
  });

  it('booking_date before or equal to ts_ms is valid, after it is invalid', () => {
    expect(validate(booking({ booking_date: AT - 1 }), AT)).toEqual([]);
    expect(validate(booking({ booking_date: AT }), AT)).toEqual([]);
    expect(validate(booking({ booking_date: AT + 1 }), AT)).toEqual(['booking_date_after_change']);
    const c = utc.change(change({ ts_ms: AT - 1 }));
    expect(c.after?.is_valid_booking).toBe(false);
    expect(c.after?.validation_errors).toEqual(['booking_date_after_change']);
  });

  it('lists every failed rule, in rule order', () => {
    const b = booking({
      customer_id: null,
      movie_id: null,
      ticket_count: 0,
      ticket_price: 0,
      booking_date: AT + 5,
      booking_id: '',
    });
    expect(validate(b, AT)).toEqual([...VALIDATION_RULES]);
  });
});

describe('time fields', () => {
  it('day_of_week runs 0 = Sunday ... 6 = Saturday across a week', () => {
    // 2025-08-31 is a Sunday.
    const days = [0, 1, 2, 3, 4, 5, 6].map((d) =>
      utc.image(booking({ booking_date: Date.UTC(2025, 7, 31 + d, 12) }), Date.UTC(2026, 0, 1)),
    );
    expect(days.map((e) => e.day_of_week)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(days.map((e) => e.booking_date_only)).toEqual([
      '2025-08-31',
      '2025-09-01',
      '2025-09-02',
      '2025-09-03',
      '2025-09-04',
      '2025-09-05',
      '2025-09-06',
    ]);
  });

  it('the worked example: 2025-09-03 10:00-10:25 UTC is hour 10 on a Wednesday', () => {
    for (const minute of [0, 5, 10, 15, 20, 25]) {
      const e = utc.image(booking({ booking_date: Date.UTC(2025, 8, 3, 10, minute) }), Date.UTC(2025, 8, 4));
      expect([e.booking_date_only, e.booking_hour, e.day_of_week]).toEqual(['2025-09-03', 10, 3]);
    }
  });

  it('a non-UTC time zone moves date, hour and weekday around midnight', () => {
    const la = createDeriver('America/Los_Angeles'); // UTC-7 in September
    const beforeMidnight = la.image(booking({ booking_date: Date.UTC(2025, 8, 4, 6, 59, 59) }), AT * 2);
    const atMidnight = la.image(booking({ booking_date: Date.UTC(2025, 8, 4, 7, 0, 0) }), AT * 2);
    expect([
      beforeMidnight.booking_date_only,
      beforeMidnight.booking_hour,
      beforeMidnight.day_of_week,
    ]).toEqual(['2025-09-03', 23, 3]);
    expect([atMidnight.booking_date_only, atMidnight.booking_hour, atMidnight.day_of_week]).toEqual([
      '2025-09-04',
      0,
      4,
    ]);
    // East of UTC, the local day starts before the UTC one: 18:30 UTC is midnight in India.
    const kolkata = createDeriver('Asia/Kolkata');
    const e = kolkata.image(booking({ booking_date: Date.UTC(2025, 8, 6, 18, 30) }), AT * 2);
    expect([e.booking_date_only, e.booking_hour, e.day_of_week]).toEqual(['2025-09-07', 0, 0]);
  });

  it('follows daylight saving time (Europe/Berlin, spring forward and fall back)', () => {
    const berlin = createDeriver('Europe/Berlin');
    const at = (ms: number) => {
      const e = berlin.image(booking({ booking_date: ms }), Date.UTC(2030, 0, 1));
      return [e.booking_date_only, e.booking_hour];
    };
    // 2025-03-30 01:00 UTC: clocks jump from 02:00 CET to 03:00 CEST.
    expect(at(Date.UTC(2025, 2, 30, 0, 59))).toEqual(['2025-03-30', 1]);
    expect(at(Date.UTC(2025, 2, 30, 1, 0))).toEqual(['2025-03-30', 3]);
    // 2025-10-26 01:00 UTC: clocks fall back from 03:00 CEST to 02:00 CET; hour 2 happens twice.
    expect(at(Date.UTC(2025, 9, 26, 0, 30))).toEqual(['2025-10-26', 2]);
    expect(at(Date.UTC(2025, 9, 26, 0, 59))).toEqual(['2025-10-26', 2]);
    expect(at(Date.UTC(2025, 9, 26, 1, 0))).toEqual(['2025-10-26', 2]);
    expect(at(Date.UTC(2025, 9, 26, 2, 0))).toEqual(['2025-10-26', 3]);
    // Midnight in winter (UTC+1) and in summer (UTC+2).
    expect(at(Date.UTC(2025, 0, 14, 22, 59))).toEqual(['2025-01-14', 23]);
    expect(at(Date.UTC(2025, 0, 14, 23, 0))).toEqual(['2025-01-15', 0]);
    expect(at(Date.UTC(2025, 6, 14, 21, 59))).toEqual(['2025-07-14', 23]);
    expect(at(Date.UTC(2025, 6, 14, 22, 0))).toEqual(['2025-07-15', 0]);
  });

  it('rejects an unknown time zone with a message that says what to use', () => {
    expect(() => createDeriver('Mars/Olympus_Mons')).toThrow(/unknown time zone 'Mars\/Olympus_Mons'/);
  });
});

describe('change envelope', () => {
  it('enriches both images, keeps the envelope and stamps rules version and time zone', () => {
    const before = booking({ status: 'BOOKED', version: 1 });
    const after = booking({ status: 'CANCELLED', version: 2 });
    const c = utc.change(change({ op: 'u', before, after }), 42);
    expect(c).toMatchObject({
      event_id: 'e-1',
      op: 'u',
      ts_ms: AT + 1000,
      source: { name: 'test', seq: 1 },
      rules_version: RULES_VERSION,
      time_zone: 'UTC',
      derivation_epoch: 0,
      enriched_at: 42,
    });
    expect(c.before).toMatchObject({ ...before, booking_status_category: 'ACTIVE', active_revenue: 3000 });
    expect(c.after).toMatchObject({ ...after, booking_status_category: 'INACTIVE', lost_revenue: 3000 });
  });

  it('stamps the derivation epoch it was created with', () => {
    const ny = createDeriver('America/New_York', { epoch: 3 });
    const c = ny.change(change({ op: 'c', before: null }));
    expect(c).toMatchObject({ time_zone: 'America/New_York', derivation_epoch: 3 });
    expect(ny).toMatchObject({ timeZone: 'America/New_York', rulesVersion: RULES_VERSION, epoch: 3 });
  });

  it('keeps a missing image null (create has no before, delete has no after)', () => {
    expect(utc.change(change({ op: 'c', before: null })).before).toBeNull();
    const d = utc.change(change({ op: 'd', before: booking(), after: null }));
    expect(d.after).toBeNull();
    expect(d.before?.is_valid_booking).toBe(true);
  });

  it('validates each image against the change time', () => {
    const c = utc.change(
      change({
        op: 'u',
        ts_ms: AT,
        before: booking({ booking_date: AT }),
        after: booking({ booking_date: AT + 1 }),
      }),
    );
    expect(c.before?.is_valid_booking).toBe(true);
    expect(c.after?.validation_errors).toEqual(['booking_date_after_change']);
  });
});
