import { UsageError } from '@cdc/core';
import type { Booking, BookingChange } from '@cdc/core';
import {
  centsToNumeric,
  changeStatement,
  createTransactionSizes,
  parseSqlProduceArgs,
  DEFAULT_MAX_TRANSACTION_CHANGES,
} from '../../src';

const booking: Booking = {
  booking_id: 'B000001',
  customer_id: 'C0001',
  movie_id: null,
  booking_date: Date.UTC(2025, 8, 3, 10),
  status: 'BOOKED',
  ticket_count: 2,
  ticket_price: -5,
  created_at: Date.UTC(2025, 8, 3, 11),
  updated_at: Date.UTC(2025, 8, 3, 12),
  version: 2,
};
const change = (op: BookingChange['op'], before: Booking | null, after: Booking | null): BookingChange => ({
  event_id: 'e',
  op,
  before,
  after,
  ts_ms: 0,
  source: { name: 's', seq: 1 },
});

describe('booking changes as SQL', () => {
  it('money is exact decimal text from whole cents, never a float', () => {
    expect(centsToNumeric(1550)).toBe('15.50');
    expect(centsToNumeric(5)).toBe('0.05');
    expect(centsToNumeric(0)).toBe('0.00');
    expect(centsToNumeric(-5)).toBe('-0.05');
    expect(centsToNumeric(-1200)).toBe('-12.00');
    expect(centsToNumeric(Number.MAX_SAFE_INTEGER)).toBe('90071992547409.91');
    expect(() => centsToNumeric(1.5)).toThrow(RangeError);
  });

  it('a create is an INSERT of the after image with its own times', () => {
    const s = changeStatement(change('c', null, booking));
    expect(s.text).toMatch(/^INSERT INTO raw_movie_bookings/);
    expect(s.values).toEqual([
      'B000001',
      'C0001',
      null,
      '2025-09-03T10:00:00.000Z',
      'BOOKED',
      2,
      '-0.05',
      '2025-09-03T11:00:00.000Z',
      '2025-09-03T12:00:00.000Z',
    ]);
  });

  it('an update sets every column of the after image (created_at stays); a delete removes the row', () => {
    const u = changeStatement(change('u', booking, { ...booking, status: 'CANCELLED' }));
    expect(u.text).toMatch(/^UPDATE raw_movie_bookings SET .* WHERE booking_id = \$1$/s);
    expect(u.text).not.toContain('created_at');
    expect(u.values).toEqual([
      'B000001',
      'C0001',
      null,
      '2025-09-03T10:00:00.000Z',
      'CANCELLED',
      2,
      '-0.05',
      '2025-09-03T12:00:00.000Z',
    ]);
    const d = changeStatement(change('d', booking, null));
    expect(d).toEqual({ text: 'DELETE FROM raw_movie_bookings WHERE booking_id = $1', values: ['B000001'] });
  });

  it('transaction sizes: 1 to max, every size drawn, the same for the same seed', () => {
    const a = createTransactionSizes(42, 4);
    const sizes = Array.from({ length: 400 }, () => a());
    expect(new Set(sizes)).toEqual(new Set([1, 2, 3, 4]));
    const b = createTransactionSizes(42, 4);
    expect(Array.from({ length: 400 }, () => b())).toEqual(sizes);
    const one = createTransactionSizes(42, 1);
    expect([one(), one(), one()]).toEqual([1, 1, 1]);
  });
});

describe('produce --to postgres options', () => {
  const NOW = Date.UTC(2025, 8, 10, 12);
  it('the generator options apply, with transactions of up to 5 changes by default', () => {
    const c = parseSqlProduceArgs({ count: '100', seed: '7' }, NOW);
    expect(c).toMatchObject({
      count: 100,
      ratePerSec: null,
      maxTransactionChanges: DEFAULT_MAX_TRANSACTION_CHANGES,
    });
    expect(parseSqlProduceArgs({ maxTransaction: '1' }, NOW).maxTransactionChanges).toBe(1);
  });

  it.each([
    [{ producers: '2' }, /--producers applies to Kafka only/],
    [{ batchSize: '10' }, /--batch-size applies to Kafka only/],
    [{ timeScale: '20' }, /--time-scale applies to Kafka only/],
    [{ maxOutage: '5s' }, /--max-outage applies to Kafka only/],
    [{ maxTransaction: '0' }, /--max-transaction must be at least 1 \(got '0'\)/],
    [{ maxTransaction: 'x' }, /--max-transaction must be a whole number/],
  ])('%j is a usage error', (args, message) => {
    expect(() => parseSqlProduceArgs(args, NOW)).toThrow(UsageError);
    expect(() => parseSqlProduceArgs(args, NOW)).toThrow(message);
  });
});
