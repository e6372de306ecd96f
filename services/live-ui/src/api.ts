import type { FastifyInstance } from 'fastify';
import {
  bookingsQuerySchema,
  bookingsResponse,
  csvQuerySchema,
  emptyQuerySchema,
  errorRef,
  filterOptionsResponse,
  filtersQuerySchema,
  kpisResponse,
  summaryResponse,
} from './api-schemas';
import {
  alertsQuerySchema,
  alertsResponse,
  configResponse,
  deadLettersQuerySchema,
  deadLettersResponse,
  healthResponse,
  healthzResponse,
} from './api-schemas-pipeline';
import { csvFileName } from './csv';
import type { DeadLetterSource } from './dead-letters';
import { bookingsCsvStream } from './csv-export';
import { HttpError } from './http-query';
import {
  bookingsPage,
  filteredKpis,
  filterOptions,
  needsRowQuery,
  storedKpis,
  summary,
  type DbHandle,
  type Filters,
} from '@cdc/read-model';
import type { BookingsQuery, CsvQuery } from './query';
import type { Alert } from '@cdc/core';
import type { AlertsQuery } from './alerts-board';

/**
 * The JSON and CSV API behind the page, plus /healthz and /metrics. Every parameter is validated
 * by the route's schema first (400 naming it), then the SQL runs with parameters only. Each
 * route's schema is also its entry in the OpenAPI description (/api/openapi.json).
 */
export interface ApiDeps {
  db: DbHandle;
  /** The alerts read from the alerts topic, filtered (none when the server has no feed). */
  alerts?: (q: AlertsQuery) => Alert[];
  /** Live facts for /api/config and /api/health. */
  live: () => Record<string, unknown>;
  health: () => Record<string, unknown>;
  /** /healthz: 200 when ready, else 503, with the same body. */
  healthz: () => { ready: boolean; body: Record<string, unknown> };
  /** /metrics in Prometheus text format. */
  metrics: () => Promise<{ contentType: string; text: string }>;
  maxConcurrentExports?: number;
  /** The dead-letter topic's records (none without Kafka: 503). */
  deadLetters?: DeadLetterSource;
}

/** Validated filters with lists deduplicated; a date range upside down is refused (400). */
export function normalizeFilters<Q extends Filters>(q: Q): Q {
  if (q.from !== undefined && q.to !== undefined && q.from > q.to) {
    throw new HttpError(400, 'from: must not be after to');
  }
  const out = { ...q };
  if (q.status) out.status = [...new Set(q.status)];
  if (q.movie) out.movie = [...new Set(q.movie)];
  return out;
}

const pickFilters = ({ from, to, status, movie }: Filters): Filters => ({ from, to, status, movie });

const badQuery = { ...errorRef, description: 'A bad or unknown parameter, named in `error`' };
const dbErrors = {
  400: badQuery,
  503: { ...errorRef, description: "The aggregator's database is not available (yet)" },
} as const;

/**
 * Registers every route, in the order of the OpenAPI document: the data (KPIs, alerts, summary,
 * bookings, CSV, filters), then the pipeline's (health, dead letters, config, /healthz, /metrics).
 */
export function registerApi(app: FastifyInstance, deps: ApiDeps): void {
  app.register(async (api) => {
    api.addHook('onSend', async (_request, reply) => {
      if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    });
    for (const route of ROUTES) route(api, deps);
  });
}

const ROUTES: readonly ((api: FastifyInstance, deps: ApiDeps) => void)[] = [
  kpisRoute,
  alertsRoute,
  summaryRoute,
  bookingsRoute,
  bookingsCsvRoute,
  filtersRoute,
  healthRoute,
  deadLettersRoute,
  configRoute,
  healthzRoute,
  metricsRoute,
];

/** `/api/kpis`: the gold KPIs, or recomputed over the filtered rows. */
function kpisRoute(api: FastifyInstance, deps: ApiDeps): void {
  api.get<{ Querystring: Filters }>(
    '/api/kpis',
    {
      config: { route: 'kpis' },
      schema: {
        tags: ['kpis'],
        summary: 'Per-movie KPIs',
        description:
          'The gold KPIs of every movie (optionally some movies); under a date or status filter, recomputed over the current rows that pass it.',
        querystring: filtersQuerySchema,
        response: {
          200: { ...kpisResponse, description: 'KPIs per movie, sorted by movie_key' },
          ...dbErrors,
        },
      },
    },
    (request) => {
      const f = pickFilters(normalizeFilters(request.query));
      const rows = needsRowQuery(f) ? filteredKpis(deps.db, f) : storedKpis(deps.db, f);
      return {
        source: needsRowQuery(f) ? 'bookings' : 'movie_kpis',
        filters: f,
        as_of: Date.now(),
        movies: rows,
      };
    },
  );
}

/** `/api/alerts`: the alerts read from the alerts topic. */
function alertsRoute(api: FastifyInstance, deps: ApiDeps): void {
  api.get<{ Querystring: AlertsQuery }>(
    '/api/alerts',
    {
      config: { route: 'alerts' },
      schema: {
        tags: ['alerts'],
        summary: 'Alerts, newest first',
        description:
          'The newest transition of every alert `cdc alerts` raised (firing, or resolved: the most recent 500 resolved are kept), newest transition first, from the compacted alerts topic.',
        querystring: alertsQuerySchema,
        response: {
          200: { ...alertsResponse, description: 'The alerts under the filters' },
          400: badQuery,
        },
      },
    },
    (request) => {
      const q = request.query;
      const alerts = deps.alerts?.({ ...q, limit: q.limit ?? 100 }) ?? [];
      return { as_of: Date.now(), alerts };
    },
  );
}

/** `/api/summary`: the cards and chart series. */
function summaryRoute(api: FastifyInstance, deps: ApiDeps): void {
  api.get<{ Querystring: Filters }>(
    '/api/summary',
    {
      config: { route: 'summary' },
      schema: {
        tags: ['kpis'],
        summary: 'Totals and chart series',
        description:
          'Cards and chart series (by status, hour, day of week) over the current rows under the filters.',
        querystring: filtersQuerySchema,
        response: {
          200: { ...summaryResponse, description: 'Totals and series under the filters' },
          ...dbErrors,
        },
      },
    },
    (request) => {
      const f = pickFilters(normalizeFilters(request.query));
      return { filters: f, as_of: Date.now(), ...summary(deps.db, f) };
    },
  );
}

/** `/api/bookings`: one page of the current rows. */
function bookingsRoute(api: FastifyInstance, deps: ApiDeps): void {
  api.get<{ Querystring: BookingsQuery }>(
    '/api/bookings',
    {
      config: { route: 'bookings' },
      schema: {
        tags: ['bookings'],
        summary: 'One page of the current booking rows',
        description: 'Filtered, sorted (ties broken by booking_id) and paged.',
        querystring: bookingsQuerySchema,
        response: {
          200: { ...bookingsResponse, description: 'The page of rows and the total' },
          ...dbErrors,
        },
      },
    },
    (request) => {
      const q = normalizeFilters(request.query);
      return { ...bookingsPage(deps.db, q), sort: q.sort, order: q.order };
    },
  );
}

/** `/api/bookings.csv`: the filtered rows streamed as CSV, a few exports at a time. */
function bookingsCsvRoute(api: FastifyInstance, deps: ApiDeps): void {
  let exports = 0;
  const maxExports = deps.maxConcurrentExports ?? 4;
  api.get<{ Querystring: CsvQuery }>(
    '/api/bookings.csv',
    {
      config: { route: 'bookings.csv' },
      schema: {
        tags: ['bookings'],
        summary: 'Export the filtered rows as CSV',
        description:
          'Every row under the filters, from one consistent snapshot; RFC 4180, a text cell a spreadsheet could run as a formula is prefixed with an apostrophe. At most a few exports run at once (429 beyond).',
        querystring: csvQuerySchema,
        response: {
          200: {
            description: 'CSV with a header row, as an attachment named bookings-<UTC time>.csv',
            content: { 'text/csv': { schema: { type: 'string' } } },
          },
          429: { ...errorRef, description: 'Too many exports at once; retry later' },
          ...dbErrors,
        },
      },
    },
    (request, reply) => {
      const q = normalizeFilters(request.query);
      if (exports >= maxExports) throw new HttpError(429, `too many exports at once (limit ${maxExports})`);
      const stream = bookingsCsvStream(deps.db, q);
      exports += 1;
      stream.once('close', () => (exports -= 1));
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${csvFileName(Date.now())}"`)
        .send(stream);
    },
  );
}

/** `/api/filters`: what the filter controls offer. */
function filtersRoute(api: FastifyInstance, deps: ApiDeps): void {
  api.get(
    '/api/filters',
    {
      config: { route: 'filters' },
      schema: {
        tags: ['kpis'],
        summary: 'What the filter controls offer',
        description: 'Statuses and movies present, and the range of booking dates.',
        querystring: emptyQuerySchema,
        response: { 200: { ...filterOptionsResponse, description: 'The filter choices' }, ...dbErrors },
      },
    },
    () => filterOptions(deps.db),
  );
}

/** `/api/health`: the pipeline panel. */
function healthRoute(api: FastifyInstance, deps: ApiDeps): void {
  api.get(
    '/api/health',
    {
      config: { route: 'health' },
      schema: {
        tags: ['operations'],
        summary: 'Pipeline health for the dashboard',
        description:
          "Readiness, freshness, each stage's consumer lag, dead letters and the aggregator's latest batch (polled in the background).",
        querystring: emptyQuerySchema,
        response: { 200: { ...healthResponse, description: 'Health as of the last poll' }, 400: badQuery },
      },
    },
    () => deps.health(),
  );
}

/** `/api/dead-letters`: the dead-letter topic, newest first. */
function deadLettersRoute(api: FastifyInstance, deps: ApiDeps): void {
  api.get(
    '/api/dead-letters',
    {
      config: { route: 'dead-letters' },
      schema: {
        tags: ['operations'],
        summary: 'Dead letters',
        description:
          'The records the enricher could not enrich, newest first: when, why, where from (the count in /api/health). `cdc dlq` shows their bytes and replays them.',
        querystring: deadLettersQuerySchema,
        response: {
          200: { ...deadLettersResponse, description: 'The dead letters' },
          400: badQuery,
          503: { ...errorRef, description: 'The dead-letter topic cannot be read now' },
        },
      },
    },
    async (request, reply) => {
      const q = request.query as { code?: string; limit: number };
      if (!deps.deadLetters) return reply.code(503).send({ error: 'no Kafka connection' });
      try {
        return await deps.deadLetters(q);
      } catch (err) {
        request.log.warn({ err }, 'reading the dead-letter topic failed');
        return reply.code(503).send({ error: 'the dead-letter topic cannot be read now' });
      }
    },
  );
}

/** `/api/config`: the page's live settings. */
function configRoute(api: FastifyInstance, deps: ApiDeps): void {
  api.get(
    '/api/config',
    {
      config: { route: 'config' },
      schema: {
        tags: ['operations'],
        summary: "The page's live settings",
        description: 'Where the websocket is, its heartbeat and coalescing intervals, the display currency.',
        querystring: emptyQuerySchema,
        response: { 200: { ...configResponse, description: 'The live settings' }, 400: badQuery },
      },
    },
    () => deps.live(),
  );
}

/** `/healthz`: liveness and readiness. */
function healthzRoute(api: FastifyInstance, deps: ApiDeps): void {
  api.get(
    '/healthz',
    {
      config: { route: 'healthz' },
      schema: {
        tags: ['operations'],
        summary: 'Liveness and readiness',
        description:
          '200 once the gold topic has been read to its end, 503 before. The one route that needs no token.',
        security: [],
        response: {
          200: { ...healthzResponse, description: 'Ready' },
          503: { ...healthzResponse, description: 'Not ready yet (reading the gold topic)' },
        },
      },
    },
    (_request, reply) => {
      const h = deps.healthz();
      return reply.code(h.ready ? 200 : 503).send(h.body);
    },
  );
}

/** `/metrics`: Prometheus. */
function metricsRoute(api: FastifyInstance, deps: ApiDeps): void {
  api.get(
    '/metrics',
    {
      config: { route: 'metrics' },
      schema: {
        tags: ['operations'],
        summary: 'Prometheus metrics',
        response: {
          200: {
            description: 'Prometheus text exposition format',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
        },
      },
    },
    async (_request, reply) => {
      const m = await deps.metrics();
      return reply.type(m.contentType).send(m.text);
    },
  );
}
