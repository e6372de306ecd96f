import type { ServerResponse } from 'node:http';
import type { Logger } from '@cdc/core';
import {
  BOOKING_ROW_COLUMNS,
  bookingsPage,
  exportBookings,
  filteredKpis,
  filterOptions,
  needsRowQuery,
  storedKpis,
  summary,
  type DbHandle,
} from '@cdc/read-model';
import { csvFileName, csvLine } from './csv';
import { HttpError, Router, securityHeaders, sendJson } from './http-util';
import {
  bookingsQuerySchema,
  csvQuerySchema,
  emptyQuerySchema,
  filtersSchema,
  parseQuery,
  type CsvQuery,
} from './query';
import type { z } from 'zod';

/**
 * The JSON and CSV API behind the page. Every parameter is validated first (400 with the reason),
 * then the SQL runs with parameters only.
 */
export interface ApiDeps {
  db: DbHandle;
  logger: Logger;
  /** Live facts for /api/health and /api/config. */
  live: () => Record<string, unknown>;
  health: () => Record<string, unknown>;
  maxConcurrentExports?: number;
}

function validated<S extends z.ZodTypeAny>(schema: S, url: URL): z.output<S> {
  const q = parseQuery(schema, url.searchParams);
  if (!q.ok) throw new HttpError(400, q.reason);
  return q.value;
}

export function apiRoutes(router: Router, deps: ApiDeps): Router {
  const { db } = deps;
  let exports = 0;
  const maxExports = deps.maxConcurrentExports ?? 4;

  return router
    .get('/api/kpis', 'kpis', (_req, res, url) => {
      const f = validated(filtersSchema, url);
      const rows = needsRowQuery(f) ? filteredKpis(db, f) : storedKpis(db, f);
      sendJson(res, 200, {
        source: needsRowQuery(f) ? 'bookings' : 'movie_kpis',
        filters: f,
        as_of: Date.now(),
        movies: rows,
      });
    })
    .get('/api/summary', 'summary', (_req, res, url) => {
      const f = validated(filtersSchema, url);
      sendJson(res, 200, { filters: f, as_of: Date.now(), ...summary(db, f) });
    })
    .get('/api/bookings', 'bookings', (_req, res, url) => {
      const q = validated(bookingsQuerySchema, url);
      sendJson(res, 200, { ...bookingsPage(db, q), sort: q.sort, order: q.order });
    })
    .get('/api/bookings.csv', 'bookings.csv', async (_req, res, url) => {
      const q = validated(csvQuerySchema, url);
      if (exports >= maxExports) throw new HttpError(429, `too many exports at once (limit ${maxExports})`);
      exports += 1;
      try {
        await streamCsv(db, q, res);
      } finally {
        exports -= 1;
      }
    })
    .get('/api/filters', 'filters', (_req, res, url) => {
      validated(emptyQuerySchema, url);
      sendJson(res, 200, filterOptions(db));
    })
    .get('/api/health', 'health', (_req, res, url) => {
      validated(emptyQuerySchema, url);
      sendJson(res, 200, deps.health());
    })
    .get('/api/config', 'config', (_req, res, url) => {
      validated(emptyQuerySchema, url);
      sendJson(res, 200, deps.live());
    });
}

/**
 * Streams the filtered rows as CSV from a separate read-only connection inside one read
 * transaction (a consistent snapshot even while the aggregator writes), honouring backpressure
 * and stopping when the client goes away.
 */
async function streamCsv(db: DbHandle, q: CsvQuery, res: ServerResponse): Promise<void> {
  let closed = false;
  res.on('close', () => {
    closed = true;
  });
  const { rows, close } = exportBookings(db, q);
  try {
    res.writeHead(200, {
      ...securityHeaders(),
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="${csvFileName(Date.now())}"`,
      'cache-control': 'no-store',
    });
    let chunk = csvLine(BOOKING_ROW_COLUMNS);
    for (const row of rows) {
      if (closed) break;
      chunk += csvLine(BOOKING_ROW_COLUMNS.map((c) => row[c]));
      if (chunk.length >= 64 * 1024) {
        const ok = res.write(chunk);
        chunk = '';
        if (!ok) await new Promise<void>((resolve) => res.once('drain', resolve).once('close', resolve));
      }
    }
    if (!closed) res.end(chunk);
  } finally {
    close();
  }
}
