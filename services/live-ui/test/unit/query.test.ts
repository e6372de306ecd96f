import { needsRowQuery, orderClause, whereClause } from '../../src/query';

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

  it('knows which filters the gold KPIs cannot answer', () => {
    expect(needsRowQuery({ movie: ['M1'] })).toBe(false);
    expect(needsRowQuery({ status: ['BOOKED'] })).toBe(true);
    expect(needsRowQuery({ to: '2025-09-01' })).toBe(true);
  });
});
