import { NO_MOVIE_KEY, type MovieKpis } from '@cdc/core';
import {
  SORT_COLUMNS,
  type BookingRowColumn as BookingColumn,
  type FilterOptions,
  type Summary,
} from '@cdc/read-model';
import { MAX_PAGE_SIZE } from './query';
import { cents, escapeRegExp, int, list, ms, nullable, object, query, str, type Schema } from './schema-kit';

/**
 * JSON schemas of the API: the query parameters each route validates (fastify runs them through
 * ajv before the handler) and the responses it documents. @fastify/swagger turns them into the
 * OpenAPI 3.1 description at /api/openapi.json, and the API tests validate every response they
 * see against that description. Pure data.
 *
 * The property maps are typed against the row and body types (`satisfies Record<...>`), so a
 * column added to a query without being documented here fails to compile.
 *
 * Here: the shared error schema and the data routes (KPIs, summary, bookings, filters, CSV, the
 * websocket's query); the pipeline routes (health, config, dead letters, alerts, /healthz) are in
 * api-schemas-pipeline.ts, the building blocks in schema-kit.ts.
 */

/** Shared schemas, registered with `app.addSchema` and referenced as `{ $ref: 'Name#' }`. */
export const errorSchema = {
  $id: 'Error',
  type: 'object',
  description: 'Why the request was refused or failed.',
  required: ['error'],
  additionalProperties: false,
  properties: { error: { type: 'string', description: 'The reason, naming the bad parameter if any.' } },
} as const;
export const errorRef = { $ref: 'Error#' } as const;

// ---------- query parameters ----------

const date = (description: string): Schema => ({
  type: 'string',
  format: 'date',
  description: `${description} (YYYY-MM-DD, booking date in UTC, inclusive)`,
});

export const filterProperties = {
  from: date('First booking date'),
  to: date('Last booking date'),
  status: list('^[A-Za-z_]{1,32}$', 20, 'Booking statuses (letters and _, up to 32)'),
  movie: list(
    `^(?:[A-Za-z0-9._:-]{1,64}|${escapeRegExp(NO_MOVIE_KEY)})$`,
    200,
    `Movie ids (letters, digits, . _ : -, up to 64), or ${NO_MOVIE_KEY} for bookings without a movie`,
  ),
};

const sortProperties = {
  sort: { type: 'string', enum: SORT_COLUMNS, default: 'booking_date', description: 'Sort column' },
  order: { type: 'string', enum: ['asc', 'desc'], default: 'desc' },
};

export const filtersQuerySchema = query(filterProperties);
export const csvQuerySchema = query({ ...filterProperties, ...sortProperties });
export const bookingsQuerySchema = query({
  ...filterProperties,
  ...sortProperties,
  page: { type: 'integer', minimum: 1, maximum: 1_000_000, default: 1 },
  pageSize: { type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: 50 },
});
export const emptyQuerySchema = query({});
export const wsQuerySchema = {
  ...query({
    since: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
    epoch: { type: 'string', pattern: '^[a-z0-9]{1,32}$' },
  }),
  dependencies: { since: ['epoch'], epoch: ['since'] },
};

// ---------- responses ----------

const movieKpiProperties = {
  movie_key: { type: 'string', description: `The movie id, or ${NO_MOVIE_KEY} for bookings without one` },
  movie_id: nullable('string'),
  total_bookings: int,
  valid_bookings: int,
  invalid_bookings: int,
  data_quality_score: { ...nullable('number'), description: 'valid ÷ total × 100' },
  active_bookings: int,
  cancelled_bookings: int,
  total_tickets: int,
  total_active_revenue_cents: cents('Revenue of active bookings'),
  total_lost_revenue_cents: cents('Revenue of cancelled bookings'),
  total_gross_revenue_cents: cents('Revenue of valid bookings'),
  single_bookings: int,
  group_bookings: int,
  large_group_bookings: int,
  budget_bookings: int,
  standard_bookings: int,
  premium_bookings: int,
  cancellation_rate_percent: nullable('number'),
  active_rate_percent: nullable('number'),
  avg_revenue_per_active_booking_cents: nullable('number'),
  booking_days: int,
  active_hours: int,
  new_bookings: int,
  status_changes: int,
  updates: int,
  deleted_bookings: int,
  updated_at: ms('When the aggregator last changed the row'),
  last_event_ts_ms: ms('Newest source event time among its bookings'),
  snapshot_version: { type: 'integer', description: 'Only in movie_kpis rows (unfiltered)' },
} satisfies Record<keyof MovieKpis | 'movie_key', Schema>;

const bookingProperties = {
  booking_id: str,
  version: int,
  movie_id: nullable('string'),
  customer_id: nullable('string'),
  booking_date: ms('Booking time'),
  booking_date_only: { type: 'string', format: 'date' },
  booking_hour: int,
  day_of_week: { type: 'integer', minimum: 0, maximum: 6, description: '0 = Sunday' },
  status: str,
  ticket_count: int,
  ticket_price_cents: cents('Price of one ticket'),
  total_amount_cents: cents('Tickets × price'),
  active_revenue_cents: cents('Amount while active'),
  lost_revenue_cents: cents('Amount when cancelled'),
  booking_status_category: str,
  booking_size_category: str,
  price_category: str,
  is_valid_booking: { type: 'integer', enum: [0, 1] },
  validation_errors: str,
  created_at: ms('First seen'),
  updated_at: ms('Last changed'),
  event_id: str,
  event_ts_ms: ms('Source event time of the latest change'),
  derivation_epoch: {
    type: 'integer',
    minimum: 0,
    description: 'Which derivation of its version the row carries (0 until the first backfill)',
  },
} satisfies Record<BookingColumn, Schema>;

const filtersEcho = object(filterProperties, Object.keys(filterProperties));
const group = (key: string): Schema => object({ [key]: int, bookings: int, revenue_cents: cents('Revenue') });

const summaryProperties = {
  total_bookings: int,
  valid_bookings: int,
  invalid_bookings: int,
  active_bookings: int,
  cancelled_bookings: int,
  total_tickets: int,
  total_revenue_cents: cents('Revenue of valid bookings'),
  active_revenue_cents: cents('Revenue of active bookings'),
  lost_revenue_cents: cents('Revenue of cancelled bookings'),
  data_quality_score: nullable('number'),
  cancellation_rate_percent: nullable('number'),
  by_status: { type: 'array', items: object({ status: str, bookings: int, revenue_cents: int }) },
  by_hour: { type: 'array', minItems: 24, maxItems: 24, items: group('hour') },
  by_day_of_week: { type: 'array', minItems: 7, maxItems: 7, items: group('day_of_week') },
} satisfies Record<keyof Summary, Schema>;

export const kpisResponse = object({
  source: {
    type: 'string',
    enum: ['movie_kpis', 'bookings'],
    description: 'movie_kpis (the gold KPIs) or bookings (recomputed under a date or status filter)',
  },
  filters: filtersEcho,
  as_of: ms('When the answer was computed'),
  movies: { type: 'array', items: object(movieKpiProperties, ['snapshot_version']) },
});

export const summaryResponse = object({
  filters: filtersEcho,
  as_of: ms('When the answer was computed'),
  ...summaryProperties,
});

export const bookingsResponse = object({
  total: { type: 'integer', description: 'Rows matching the filters' },
  page: int,
  pageSize: int,
  rows: { type: 'array', items: object(bookingProperties) },
  sort: { type: 'string', enum: SORT_COLUMNS },
  order: { type: 'string', enum: ['asc', 'desc'] },
});

export const filterOptionsResponse = object({
  statuses: { type: 'array', items: str },
  movies: { type: 'array', items: str },
  min_date: { ...nullable('string'), format: 'date' },
  max_date: { ...nullable('string'), format: 'date' },
} satisfies Record<keyof FilterOptions, Schema>);
