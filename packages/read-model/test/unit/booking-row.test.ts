import Database from 'better-sqlite3';
import type { EnrichedBooking } from '@cdc/core';
import {
  BOOKING_COLUMNS,
  BOOKING_ROW_COLUMNS,
  BOOKING_TABLE,
  bookingValues,
  ReadModelWriter,
  applySchema,
  bookingsPage,
  needsRowQuery,
  orderClause,
  storedFromImage,
  versionOrder,
  whereClause,
} from '../../src';

const image: EnrichedBooking = {
  booking_id: 'B1',
  customer_id: 'C1',
  movie_id: 'M1',
  booking_date: 1_756_893_600_000,
  status: 'CANCELLED',
  ticket_count: 3,
  ticket_price: 1250,
  created_at: 11,
  updated_at: 12,
  version: 4,
  total_amount: 3750,
  booking_status_category: 'INACTIVE',
  booking_size_category: 'GROUP',
  price_category: 'STANDARD',
  active_revenue: 0,
  lost_revenue: 3750,
  booking_date_only: '2025-09-03',
  booking_hour: 10,
  day_of_week: 3,
  is_valid_booking: true,
  validation_errors: [],
};

describe('the bookings row', () => {
  test('every column is written from its field, and read back by the readers', () => {
    const db = new Database(':memory:');
    applySchema(db);
    const writer = new ReadModelWriter(db);
    const row = storedFromImage(image, 5, 2, 0, 'ev-7', 99);
    db.transaction(() => writer.writeDelta({ bookings: [row], movies: new Map() }, 0, []))();
    expect(db.prepare('SELECT * FROM bookings').all()).toEqual([
      {
        booking_id: 'B1',
        version: 5,
        deleted: 0,
        movie_id: 'M1',
        customer_id: 'C1',
        booking_date: image.booking_date,
        booking_date_only: '2025-09-03',
        booking_hour: 10,
        day_of_week: 3,
        status: 'CANCELLED',
        ticket_count: 3,
        ticket_price_cents: 1250,
        total_amount_cents: 3750,
        active_revenue_cents: 0,
        lost_revenue_cents: 3750,
        booking_status_category: 'INACTIVE',
        booking_size_category: 'GROUP',
        price_category: 'STANDARD',
        is_valid_booking: 1,
        validation_errors: '[]',
        created_at: 11,
        updated_at: 12,
        event_id: 'ev-7',
        event_ts_ms: 99,
        derivation_epoch: 2,
      },
    ]);
    expect(Object.keys(db.prepare('SELECT * FROM bookings').get() as object)).toEqual(BOOKING_COLUMNS);
    const page = bookingsPage(db, { sort: 'booking_id', order: 'asc', page: 1, pageSize: 10 });
    expect(page.total).toBe(1);
    expect(Object.keys(page.rows[0] as object)).toEqual(BOOKING_ROW_COLUMNS);
    expect(BOOKING_ROW_COLUMNS).toEqual(BOOKING_COLUMNS.filter((c) => c !== 'deleted'));
    // The writer's source reads back the stored state (the cached row drops its image).
    expect(writer.source.booking('B1')).toMatchObject({
      version: 5,
      derivation_epoch: 2,
      deleted: 0,
      lost_revenue_cents: 3750,
    });
    db.close();
  });

  test("the writer's hand-written values follow BOOKING_TABLE, column by column", () => {
    const rows = [
      storedFromImage(image, 5, 0, 0, 'ev-7', 99),
      storedFromImage(
        { ...image, movie_id: null, customer_id: null, validation_errors: ['a', 'b'] },
        2,
        3,
        1,
        'x',
        1,
      ),
      storedFromImage({ ...image, is_valid_booking: false, status: 'PENDING' }, 9, 1, 0, 'y', 2),
    ];
    for (const row of rows) {
      const image = row.image as EnrichedBooking;
      const want = BOOKING_TABLE.map((c) => [c.name, c.value(row, image)]);
      expect(bookingValues(row).map((v, i) => [BOOKING_COLUMNS[i], v])).toEqual(want);
    }
  });

  test('a newer version replaces a stored row; the same version re-derived under a newer epoch too', () => {
    const stored = { version: 2, derivation_epoch: 1 };
    // A newer version wins whatever its epoch (a live change derived before a backfill's switch).
    expect(versionOrder(3, 0, stored)).toBe('newer');
    expect(versionOrder(3, 1, stored)).toBe('newer');
    expect(versionOrder(3, 5, stored)).toBe('newer');
    expect(versionOrder(2, 2, stored)).toBe('rederived');
    expect(versionOrder(2, 9, stored)).toBe('rederived');
    // A duplicate, an older derivation, an older version (whatever its epoch): nothing to apply.
    expect(versionOrder(2, 1, stored)).toBe('not-newer');
    expect(versionOrder(2, 0, stored)).toBe('not-newer');
    expect(versionOrder(1, 0, stored)).toBe('not-newer');
    expect(versionOrder(1, 7, stored)).toBe('not-newer');
  });
});

describe('SQL building', () => {
  it('puts every value in a parameter', () => {
    expect(whereClause({ from: '2025-09-01', status: ['BOOKED'], movie: ['M1', '(none)'] })).toEqual({
      sql: 'WHERE deleted = 0 AND booking_date_only >= ? AND status IN (?) AND (movie_id IN (?) OR movie_id IS NULL)',
      params: ['2025-09-01', 'BOOKED', 'M1'],
    });
    expect(whereClause({})).toEqual({ sql: 'WHERE deleted = 0', params: [] });
    expect(whereClause({ movie: ['(none)'] }).sql).toBe('WHERE deleted = 0 AND (movie_id IS NULL)');
  });

  it('orders by whitelisted columns only, with a stable tie-break', () => {
    expect(orderClause('ticket_count', 'asc')).toBe('ORDER BY ticket_count ASC, booking_id ASC');
    expect(orderClause('booking_id', 'desc')).toBe('ORDER BY booking_id DESC');
    expect(() => orderClause('1; DROP TABLE bookings' as 'status', 'asc')).toThrow('not a sort column');
  });

  it('knows which filters the stored KPIs cannot answer', () => {
    expect(needsRowQuery({ movie: ['M1'] })).toBe(false);
    expect(needsRowQuery({ status: ['BOOKED'] })).toBe(true);
    expect(needsRowQuery({ to: '2025-09-01' })).toBe(true);
  });
});
