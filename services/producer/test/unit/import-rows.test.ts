import { UsageError } from '@cdc/core';
import {
  bindColumns,
  createCheckpointTracker,
  createTimestampParser,
  decide,
  emptyCounts,
  parseColumnMap,
  parseRow,
  type ImportField,
  type ImportedBooking,
} from '../../src/import';

const HEADER = [
  'booking_id',
  'customer_id',
  'movie_id',
  'booking_date',
  'status',
  'ticket_count',
  'ticket_price',
  'total_amount',
  'created_at',
  'updated_at',
];

describe('import: columns', () => {
  it('matches the raw_movie_bookings export by name, in any case, ignoring other columns', () => {
    const b = bindColumns(
      ['BOOKING_ID', ...HEADER.slice(1).map((h) => h.toUpperCase()), 'extra'],
      new Map(),
      'f.csv',
    );
    expect(b.index.booking_id).toBe(0);
    expect(b.index.updated_at).toBe(9);
    expect(b.ignored).toEqual(['extra']);
    expect(b.width).toBe(11);
  });

  it('--map takes a field from a column of another name', () => {
    const map = parseColumnMap(['id=booking_id', 'price=ticket_price,tickets=ticket_count']);
    const header = ['id', 'customer_id', 'movie_id', 'booking_date', 'status', 'tickets', 'price'];
    const b = bindColumns(header, map, 'f.csv');
    expect(b.index).toMatchObject({ booking_id: 0, ticket_count: 5, ticket_price: 6 });
    expect(b.index.total_amount).toBeUndefined();
  });

  it('bad mappings and headers are usage errors naming what to fix', () => {
    expect(() => parseColumnMap(['price=ticket_cost'])).toThrow(/unknown field 'ticket_cost'/);
    expect(() => parseColumnMap(['price'])).toThrow(/column=field/);
    expect(() => parseColumnMap(['a=booking_id', 'b=booking_id'])).toThrow(/two columns for booking_id/);
    expect(() => parseColumnMap(['price=ticket_cost'])).toThrow(UsageError);
    expect(() => bindColumns(HEADER.slice(1), new Map(), 'f.csv')).toThrow(/f.csv has no booking_id column/);
    expect(() => bindColumns(HEADER, parseColumnMap(['nope=booking_id']), 'f.csv')).toThrow(
      /has no column 'nope'/,
    );
    expect(() => bindColumns([...HEADER, 'Status'], new Map(), 'f.csv')).toThrow(
      /two columns named 'Status'/,
    );
  });
});

describe('import: rows', () => {
  const ts = createTimestampParser('UTC');
  const row = (values: Partial<Record<ImportField, string | null>>) => {
    const base: Record<string, string | null> = {
      booking_id: 'B001',
      customer_id: 'C1',
      movie_id: 'M1',
      booking_date: '2025-09-03 10:00:00',
      status: 'BOOKED',
      ticket_count: '2',
      ticket_price: '15.00',
      total_amount: '30.00',
      created_at: '2025-09-03 10:00:05',
      updated_at: '2025-09-03 10:00:06',
      ...values,
    };
    return parseRow((f) => (f in base ? base[f] : undefined), ts);
  };

  it('a row becomes a booking: exact cents, UTC milliseconds', () => {
    expect(row({})).toEqual({
      ok: true,
      totalMismatch: false,
      booking: {
        booking_id: 'B001',
        customer_id: 'C1',
        movie_id: 'M1',
        booking_date: Date.UTC(2025, 8, 3, 10),
        status: 'BOOKED',
        ticket_count: 2,
        ticket_price: 1500,
        created_at: Date.UTC(2025, 8, 3, 10, 0, 5),
        updated_at: Date.UTC(2025, 8, 3, 10, 0, 6),
      },
    });
  });

  it('bad data is imported as it is (the enricher flags it)', () => {
    const r = row({
      customer_id: null,
      movie_id: null,
      ticket_count: '0',
      ticket_price: '-1.00',
      booking_date: '2099-01-01',
    });
    expect(r.ok).toBe(true);
    if (r.ok)
      expect(r.booking).toMatchObject({
        customer_id: null,
        movie_id: null,
        ticket_count: 0,
        ticket_price: -100,
      });
  });

  it.each([
    [{ booking_id: null }, 'booking_id is missing'],
    [{ ticket_price: 'abc' }, "ticket_price: 'abc' is not a decimal number"],
    [{ ticket_price: '15.005' }, 'more than two decimals'],
    [{ ticket_count: 'two' }, "ticket_count: 'two' is not a whole number"],
    [{ booking_date: '2025-13-45' }, "booking_date: '2025-13-45' is not a valid date"],
    [{ booking_date: null }, 'booking_date is missing'],
    [{ created_at: 'soon' }, 'created_at:'],
    [{ status: null }, 'status is missing'],
  ])('%j is rejected: %s', (values, reason) => {
    const r = row(values);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain(reason);
  });

  it('created_at defaults to booking_date and updated_at to created_at; a wrong total is noted, not fatal', () => {
    const r = row({ created_at: undefined, updated_at: null, total_amount: '31.00' });
    expect(
      r.ok &&
        r.booking.created_at === Date.UTC(2025, 8, 3, 10) &&
        r.booking.updated_at === r.booking.created_at,
    ).toBe(true);
    expect(r.ok && r.totalMismatch).toBe(true);
  });
});

describe('import: what a row means given bronze', () => {
  const booking: ImportedBooking = {
    booking_id: 'B1',
    customer_id: 'C1',
    movie_id: 'M1',
    booking_date: 1,
    status: 'BOOKED',
    ticket_count: 2,
    ticket_price: 1500,
    created_at: 1,
    updated_at: 1,
  };

  it('new: a snapshot read at version 1', () => {
    expect(decide(booking, undefined)).toEqual({
      kind: 'new',
      op: 'r',
      before: null,
      after: { ...booking, version: 1 },
    });
  });
  it('identical to bronze: nothing', () => {
    expect(decide(booking, { version: 4, deleted: false, inBronze: true, image: { ...booking } })).toEqual({
      kind: 'identical',
    });
  });
  it('changed: an update from bronze’s image, version + 1', () => {
    const cancelled = { ...booking, status: 'CANCELLED' };
    expect(decide(cancelled, { version: 4, deleted: false, inBronze: true, image: booking })).toEqual({
      kind: 'changed',
      op: 'u',
      before: { ...booking, version: 4 },
      after: { ...cancelled, version: 5 },
    });
  });
  it('deleted in bronze: a snapshot read after the tombstone', () => {
    expect(decide(booking, { version: 3, deleted: true, inBronze: true, image: booking })).toMatchObject({
      kind: 'recreated',
      op: 'r',
      after: { version: 4 },
    });
  });
});

describe('import: checkpoints advance only over acknowledged lines, in order', () => {
  it('tracks blocks across lanes that acknowledge out of order', () => {
    const t = createCheckpointTracker({ line: 1, counts: emptyCounts(), rejectsBytes: 0 });
    const counts = (created: number) => ({ ...emptyCounts(), rows: created, created });
    const a = t.open(10, counts(3), 0);
    t.pushed(a, 0);
    t.pushed(a, 1);
    t.pushed(a, 0);
    t.seal(a);
    const b = t.open(20, counts(1), 40);
    t.pushed(b, 1);
    t.seal(b);
    const c = t.open(30, { ...emptyCounts(), rows: 2, rejected: 2 }, 80); // nothing to send
    t.seal(c);
    expect(t.current().line).toBe(1);
    t.acked(1, 2); // lane 1: a's record and b's
    expect(t.current().line).toBe(1); // a still waits for lane 0
    t.acked(0, 2);
    expect(t.current()).toEqual({
      line: 30,
      rejectsBytes: 80,
      counts: { ...emptyCounts(), rows: 6, created: 4, rejected: 2 },
    });
    expect(() => t.acked(0, 1)).toThrow(/more than were pushed/);
  });
});
