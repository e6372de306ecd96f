import type { Alert } from '@cdc/core';
import type { DeadLetterList, DeadLetterRow } from './dead-letters';
import type { DerivationHealth, PipelineHealth } from './health';
import { int, list, ms, nullable, num, object, query, str, type Schema } from './schema-kit';

/**
 * JSON schemas of the API's pipeline routes (api.ts): /api/health, /api/config, /api/dead-letters,
 * /healthz and /api/alerts — what the dashboard's pipeline, dead-letter and alert panels read.
 * The data routes' schemas (KPIs, summary, bookings, filters) are in api-schemas.ts, which says
 * how they are used. Pure data.
 */

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
