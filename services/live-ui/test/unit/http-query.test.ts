import type { FastifyInstance } from 'fastify';
import { createLogger } from '@cdc/core';
import { normalizeFilters } from '../../src/api';
import {
  bookingsQuerySchema,
  csvQuerySchema,
  emptyQuerySchema,
  filtersQuerySchema,
  wsQuerySchema,
} from '../../src/api-schemas';
import { createHttpApp, MAX_URL_BYTES } from '../../src/http-app';
import { parseQueryString } from '../../src/http-query';

/**
 * Query validation as every route does it (the querystring parser, the routes' JSON schemas, the
 * error formatter and handler), on an app with echo routes, in memory (fastify's inject: no
 * socket).
 */
describe('query validation', () => {
  let app: FastifyInstance;
  const schemas = {
    filters: filtersQuerySchema,
    bookings: bookingsQuerySchema,
    csv: csvQuerySchema,
    ws: wsQuerySchema,
    empty: emptyQuerySchema,
  };
  type Route = keyof typeof schemas;

  beforeAll(async () => {
    app = await createHttpApp({ logger: createLogger('test', 'silent'), wsPath: '/ws', maxPayloadBytes: 64 });
    for (const [name, querystring] of Object.entries(schemas)) {
      app.get(`/${name}`, { schema: { querystring } }, (request) => request.query);
    }
    await app.ready();
  });
  afterAll(() => app.close());

  const call = async (route: Route, query: string) => {
    const res = await app.inject({ method: 'GET', url: `/${route}?${query}` });
    return { status: res.statusCode, body: res.json<Record<string, unknown>>() };
  };
  const ok = async (route: Route, query: string) => {
    const r = await call(route, query);
    expect([query, r.status]).toEqual([query, 200]);
    return r.body;
  };
  const reason = async (route: Route, query: string) => {
    const r = await call(route, query);
    expect([query, r.status]).toEqual([query, 400]);
    return String(r.body.error);
  };

  it('accepts the filters and fills defaults', async () => {
    expect(await ok('bookings', 'from=2025-09-01&to=2025-09-30&status=BOOKED,CANCELLED&movie=M1')).toEqual({
      from: '2025-09-01',
      to: '2025-09-30',
      status: ['BOOKED', 'CANCELLED'],
      movie: ['M1'],
      sort: 'booking_date',
      order: 'desc',
      page: 1,
      pageSize: 50,
    });
  });

  it('joins repeated list parameters; the handler removes duplicates', async () => {
    const q = await ok('filters', 'status=BOOKED&status=CANCELLED,BOOKED&movie=(none)&movie=M2');
    expect(q).toEqual({ status: ['BOOKED', 'CANCELLED', 'BOOKED'], movie: ['(none)', 'M2'] });
    expect(normalizeFilters(q)).toEqual({ status: ['BOOKED', 'CANCELLED'], movie: ['(none)', 'M2'] });
    expect(() => normalizeFilters({ from: '2025-09-02', to: '2025-09-01' })).toThrow(
      'from: must not be after to',
    );
  });

  it.each([
    ['from=2025-02-29', 'from: must match format "date"'],
    ['from=2025-9-1', 'from: must match format "date"'],
    ['status=BOOKED;', 'status: item 1 must match pattern'],
    ['status=', 'status: item 1 must match pattern'],
    ['status=A,,B', 'status: item 2 must match pattern'],
    ['movie=a%20b', 'movie: item 1 must match pattern'],
    ['movie=(NONE)', 'movie: item 1 must match pattern'],
    [
      `movie=${Array.from({ length: 201 }, (_, i) => `M${i}`).join(',')}`,
      'movie: must NOT have more than 200 items',
    ],
    ['colour=red', 'unknown parameter(s): colour'],
    ['__proto__=1', 'unknown parameter(s): __proto__'],
  ])('refuses %s with a reason', async (query, expected) => {
    expect(await reason('filters', query)).toContain(expected);
  });

  it('names every bad parameter at once', async () => {
    const r = await reason('bookings', 'page=0&pageSize=x&colour=red&size=1');
    expect(r).toContain('page: must be >= 1');
    expect(r).toContain('pageSize: must be integer');
    expect(r).toContain('unknown parameter(s): colour, size');
  });

  it('refuses a scalar given twice, bad paging and sort columns outside the whitelist', async () => {
    expect(await reason('bookings', 'page=1&page=2')).toBe('page: given 2 times, expected once');
    for (const bad of [
      'page=0',
      'page=-1',
      'page=2.5',
      'pageSize=1000',
      'sort=deleted',
      'sort=1',
      'order=ASC',
    ]) {
      expect(await reason('bookings', bad)).toContain(bad.split('=')[0]);
    }
    expect(await reason('csv', 'page=1')).toContain('unknown parameter(s): page');
    expect(await ok('csv', 'sort=total_amount_cents&order=asc')).toEqual({
      sort: 'total_amount_cents',
      order: 'asc',
    });
    expect(await reason('empty', 'x=1')).toBe('unknown parameter(s): x');
  });

  it('validates the websocket resume parameters', async () => {
    expect(await ok('ws', '')).toEqual({});
    expect(await ok('ws', 'since=12&epoch=ab12')).toEqual({ since: 12, epoch: 'ab12' });
    expect(await reason('ws', 'since=12')).toBe('since: since and epoch go together');
    for (const bad of ['epoch=ab', 'since=-1&epoch=ab', 'since=x&epoch=ab', 'since=1&epoch=A!']) {
      await reason('ws', bad);
    }
  });

  it('answers 404, 405 with Allow, and 414 for a URL over the limit, as JSON', async () => {
    const missing = await app.inject({ method: 'GET', url: '/nope' });
    expect([missing.statusCode, missing.json()]).toEqual([404, { error: 'no such resource: /nope' }]);
    const post = await app.inject({ method: 'POST', url: '/filters' });
    expect(post.statusCode).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    const long = await app.inject({ method: 'GET', url: `/filters?x=${'a'.repeat(MAX_URL_BYTES)}` });
    expect(long.statusCode).toBe(414);
    expect(long.json<{ error: string }>().error).toContain('URL');
    expect(missing.headers['x-content-type-options']).toBe('nosniff');
    expect(missing.headers['content-security-policy']).toContain("default-src 'self'");
  });

  it('parses list parameters on commas, trimmed, and keeps repeated scalars apart', () => {
    expect(parseQueryString('status=A,%20B&status=C&page=1&page=2&x=1')).toEqual({
      status: ['A', 'B', 'C'],
      page: ['1', '2'],
      x: '1',
    });
  });
});
