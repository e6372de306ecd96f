import { NO_MOVIE_KEY, type Alert, type MovieKpis } from '@cdc/core';
import type { DeadLetterList, DeadLetterRow } from './dead-letters';
import type { DerivationHealth, PipelineHealth } from './health';
import {
  SORT_COLUMNS,
  type BookingRowColumn as BookingColumn,
  type FilterOptions,
  type Summary,
} from '@cdc/read-model';
import { MAX_PAGE_SIZE } from './query';

/**
 * JSON schemas of the API: the query parameters each route validates (fastify runs them through
 * ajv before the handler) and the responses it documents. @fastify/swagger turns them into the
 * OpenAPI 3.1 description at /api/openapi.json, and the API tests validate every response they
 * see against that description. Pure data.
 *
 * The property maps are typed against the row and body types (`satisfies Record<...>`), so a
 * column added to a query without being documented here fails to compile.
 */
type Schema = Record<string, unknown>;

const nullable = (type: 'string' | 'integer' | 'number'): Schema => ({ type: [type, 'null'] });
const int: Schema = { type: 'integer' };
const num: Schema = { type: 'number' };
const str: Schema = { type: 'string' };
const ms = (description: string): Schema => ({ type: 'integer', description: `${description} (epoch ms)` });
const cents = (description: string): Schema => ({
  type: 'integer',
  description: `${description} (integer cents)`,
});

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

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

const list = (pattern: string, maxItems: number, description: string): Schema => ({
  type: 'array',
  items: { type: 'string', pattern },
  maxItems,
  description: `${description}; comma-separated, the parameter may also be repeated`,
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

/** A querystring schema: lists travel comma-separated (`style: form, explode: false`). */
const query = (properties: Record<string, Schema>): Schema => ({
  type: 'object',
  additionalProperties: false,
  style: 'form',
  explode: false,
  properties,
});

export const filtersQuerySchema = query(filterProperties);
export const csvQuerySchema = query({ ...filterProperties, ...sortProperties });
export const bookingsQuerySchema = query({
  ...filterProperties,
  ...sortProperties,
  page: { type: 'integer', minimum: 1, maximum: 1_000_000, default: 1 },
  pageSize: { type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: 50 },
});
export const emptyQuerySchema = query({});
export const deadLettersQuerySchema = query({
  code: {
    type: 'string',
    pattern: '^[A-Z_]{1,64}$',
    description: 'Only this error code, e.g. UNKNOWN_SCHEMA_ID',
  },
  limit: {
    type: 'integer',
    minimum: 1,
    maximum: 1000,
    default: 100,
    description: 'At most this many, newest first',
  },
});
export const wsQuerySchema = {
  ...query({
    since: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
    epoch: { type: 'string', pattern: '^[a-z0-9]{1,32}$' },
  }),
  dependencies: { since: ['epoch'], epoch: ['since'] },
};

// ---------- responses ----------

const object = (properties: Record<string, Schema>, optional: readonly string[] = []): Schema => ({
  type: 'object',
  additionalProperties: false,
  required: Object.keys(properties).filter((k) => !optional.includes(k)),
  properties,
});

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

const stageLag = object(
  {
    stage: { type: 'string', enum: ['enricher', 'aggregator', 'live-ui'] },
    topic: str,
    lag: { ...nullable('integer'), description: 'Records not yet processed; null when unknown' },
    note: { type: 'string', description: 'Why the lag is unknown' },
  },
  ['note'],
);

const backfillHealth = object({
  epoch: { type: 'integer', description: 'The epoch the backfill derives with' },
  status: { type: 'string', enum: ['SWITCHING', 'RUNNING', 'FINISHED'] },
  time_zone: str,
  rules_version: str,
  from: { type: 'string', description: "Where its range starts: an ISO time or 'beginning'" },
  created_at: ms('When it was started'),
  finished_at: { ...nullable('integer'), description: 'When it finished (epoch ms)' },
  done: { ...nullable('integer'), description: 'Bronze records re-derived so far; null while switching' },
  total: { ...nullable('integer'), description: 'Bronze records in its range; null while switching' },
} satisfies Record<keyof NonNullable<DerivationHealth['backfill']>, Schema>);

const derivationHealth = object({
  time_zone: { type: 'string', description: 'The time zone the enrichers derive with' },
  rules_version: str,
  epoch: { type: 'integer', description: 'The derivation epoch in force' },
  since: ms('When these settings were recorded'),
  backfill: { anyOf: [backfillHealth, { type: 'null' }], description: 'The newest backfill' },
} satisfies Record<keyof DerivationHealth, Schema>);

const pipelineHealthProperties = {
  polled_at: { ...nullable('integer'), description: 'When the pipeline was last polled (epoch ms)' },
  stages: { type: 'array', items: stageLag },
  dead_letters: { ...nullable('integer'), description: 'Records in the dead-letter topic' },
  aggregator_last_batch: {
    anyOf: [
      object({ started_at: int, duration_ms: num, changes: int, snapshot_version: int }),
      { type: 'null' },
    ],
  },
  derivation: {
    anyOf: [derivationHealth, { type: 'null' }],
    description: 'Derivation settings from the control topic; null before an enricher recorded any',
  },
  errors: { type: 'array', items: str },
} satisfies Record<keyof PipelineHealth, Schema>;

export const healthResponse = object(
  {
    ok: { type: 'boolean' },
    ready: { type: 'boolean', description: 'The gold topic has been read to its end' },
    epoch: { type: 'string', description: "This server run's id (websocket resume)" },
    version: { type: 'integer', description: 'Latest change-batch version' },
    clients: { type: 'integer', description: 'Connected websocket clients' },
    movies: int,
    data_quality_score: nullable('number'),
    last_change_at: nullable('integer'),
    since_last_change_ms: nullable('integer'),
    last_event_ts_ms: nullable('integer'),
    e2e_lag_ms: { ...nullable('number'), description: 'Event time to push of the newest batch' },
    ...pipelineHealthProperties,
    server_time: ms('Server clock'),
  },
  ['polled_at'],
);

export const configResponse = object({
  epoch: str,
  ws_path: { type: 'string', description: 'Websocket endpoint (snapshot, then change batches)' },
  heartbeat_ms: int,
  coalesce_ms: int,
  currency_symbol: str,
});

const deadLetterRow = object({
  position: { type: 'string', description: 'The dead letter: <partition>/<offset> in the dead-letter topic' },
  time: ms('When it was dead-lettered'),
  error_code: { type: 'string', description: 'Why, e.g. WRONG_MAGIC_BYTE, UNKNOWN_SCHEMA_ID' },
  error_message: str,
  source_topic: str,
  source_partition: int,
  source_offset: str,
  size: { type: 'integer', description: 'Bytes of the original value' },
  key: nullable('string'),
  replay_of: {
    ...nullable('string'),
    description: 'Set when this is a replay (cdc dlq replay) that failed again: the dead letter it repeats',
  },
} satisfies Record<keyof DeadLetterRow, Schema>);

export const deadLettersResponse = object({
  total: { type: 'integer', description: 'Dead letters matching the query' },
  read_at: ms('When the dead-letter topic was read (at most a few seconds ago)'),
  dead_letters: { type: 'array', items: deadLetterRow },
} satisfies Record<keyof DeadLetterList, Schema>);

export const healthzResponse = object(
  {
    ok: { type: 'boolean' },
    gold_ready: { type: 'boolean' },
    db_available: { type: 'boolean' },
    clients: int,
    version: int,
    outages: {
      type: 'array',
      description: 'The broker or registry outages in progress (absent when none): not ready while one lasts',
      items: object({
        dependency: { type: 'string', enum: ['broker', 'registry'] },
        since: { type: 'string', format: 'date-time' },
        reason: str,
        retries: int,
      }),
    },
  },
  ['outages'],
);

// ---------- alerts ----------

export const alertsQuerySchema = query({
  status: {
    type: 'string',
    enum: ['firing', 'resolved'],
    description: 'Only firing, or only resolved, alerts',
  },
  rule: list('^[a-z][a-z0-9_-]{0,63}$', 50, 'Rule names'),
  movie: list('^[A-Za-z0-9._:-]{1,64}$', 200, 'Movie ids'),
  severity: {
    type: 'array',
    items: { type: 'string', enum: ['info', 'warning', 'critical'] },
    maxItems: 3,
    description: 'Severities; comma-separated, the parameter may also be repeated',
  },
  limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100, description: 'Most alerts returned' },
});

const alertProperties = {
  alert_id: { type: 'string', description: '<rule>/<subject>/<active since>' },
  rule: str,
  rule_type: str,
  subject: { type: 'string', description: "A movie id, or 'pipeline'" },
  movie_id: nullable('string'),
  status: { type: 'string', enum: ['FIRING', 'RESOLVED'] },
  severity: str,
  labels: { type: 'object', additionalProperties: { type: 'string' } },
  summary: str,
  value: nullable('number'),
  threshold: nullable('number'),
  baseline: nullable('number'),
  clock: {
    type: 'string',
    enum: ['EVENT', 'WALL'],
    description: 'Whether the times below are event or wall-clock times',
  },
  active_since: ms('The condition first held'),
  fired_at: ms('It fired'),
  resolved_at: nullable('integer'),
  transition_at: ms('Wall clock of the transition'),
  sequence: { type: 'integer', description: '1 firing, 2 resolved' },
} satisfies Record<keyof Alert, Schema>;

export const alertsResponse = object({
  as_of: ms('When the answer was computed'),
  alerts: { type: 'array', items: object(alertProperties) },
});
