import {
  bookingsQuerySchema,
  csvQuerySchema,
  filtersSchema,
  parseQuery,
  wsQuerySchema,
} from '../../src/query';

const q = (s: string) => new URLSearchParams(s);

describe('query validation', () => {
  it('accepts the filters and fills defaults', () => {
    expect(
      parseQuery(bookingsQuerySchema, q('from=2025-09-01&to=2025-09-30&status=BOOKED,CANCELLED&movie=M1')),
    ).toEqual({
      ok: true,
      value: {
        from: '2025-09-01',
        to: '2025-09-30',
        status: ['BOOKED', 'CANCELLED'],
        movie: ['M1'],
        sort: 'booking_date',
        order: 'desc',
        page: 1,
        pageSize: 50,
      },
    });
  });

  it('joins repeated list parameters and removes duplicates', () => {
    const r = parseQuery(filtersSchema, q('status=BOOKED&status=CANCELLED,BOOKED&movie=(none)&movie=M2'));
    expect(r).toEqual({ ok: true, value: { status: ['BOOKED', 'CANCELLED'], movie: ['(none)', 'M2'] } });
  });

  it.each([
    ['from=2025-02-29', 'from: is not a calendar date'],
    ['from=2025-9-1', 'from: must be a date YYYY-MM-DD'],
    ['from=2025-09-02&to=2025-09-01', 'from: from must not be after to'],
    ['status=BOOKED;', 'status: items must be statuses'],
    ['status=', 'status: has an empty item'],
    ['movie=a%20b', 'movie: items must be movie ids'],
    ['movie=(NONE)', 'movie: items must be movie ids'],
    ['colour=red', 'unknown parameter(s): colour'],
  ])('refuses %s with a reason', (query, reason) => {
    const r = parseQuery(filtersSchema, q(query));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain(reason);
  });

  it('refuses a scalar given twice, bad paging and sort columns outside the whitelist', () => {
    expect(parseQuery(bookingsQuerySchema, q('page=1&page=2'))).toEqual({
      ok: false,
      reason: 'page: given 2 times, expected once',
    });
    for (const bad of [
      'page=0',
      'page=-1',
      'page=2.5',
      'pageSize=1000',
      'sort=deleted',
      'sort=1',
      'order=ASC',
    ]) {
      expect(parseQuery(bookingsQuerySchema, q(bad)).ok).toBe(false);
    }
    expect(parseQuery(csvQuerySchema, q('page=1')).ok).toBe(false);
    expect(parseQuery(csvQuerySchema, q('sort=total_amount_cents&order=asc')).ok).toBe(true);
  });

  it('validates the websocket resume parameters', () => {
    expect(parseQuery(wsQuerySchema, q(''), [])).toEqual({ ok: true, value: {} });
    expect(parseQuery(wsQuerySchema, q('since=12&epoch=ab12'), [])).toEqual({
      ok: true,
      value: { since: 12, epoch: 'ab12' },
    });
    for (const bad of ['since=12', 'epoch=ab', 'since=-1&epoch=ab', 'since=x&epoch=ab', 'since=1&epoch=A!']) {
      expect(parseQuery(wsQuerySchema, q(bad), []).ok).toBe(false);
    }
  });
});
