/**
 * `cdc status`: what one screen says about the pipeline (like SHOW TASKS plus the refresh
 * history), as data. `collect.ts` gathers it (Kafka, the registry, SQLite, the control topic),
 * `verdict` below decides healthy or degraded (pure), `format.ts` prints it, and
 * `STATUS_JSON_SCHEMA` describes `--json` (validated by the tests).
 */
export interface StatusReport {
  generated_at: string;
  healthy: boolean;
  /** Why it is degraded (empty when healthy). */
  reasons: string[];
  stack: {
    broker: {
      address: string;
      up: boolean;
      brokers: number | null;
      version: string | null;
      error: string | null;
    };
    registry: { url: string; up: boolean; version: string | null; error: string | null };
  };
  topics: TopicStatus[];
  groups: GroupStatus[];
  aggregator: {
    db: string;
    batches: { at: string; changes: number; applied: number; duration_ms: number }[];
    error: string | null;
  };
  dead_letters: number | null;
  freshness: { newest_event_at: string | null; lag_ms: number | null };
  backfill: {
    epoch: number;
    status: string;
    time_zone: string;
    rules_version: string;
    done: number | null;
    total: number | null;
  } | null;
}

export interface TopicStatus {
  role: 'bronze' | 'silver' | 'gold' | 'dead-letter' | 'control';
  name: string;
  exists: boolean;
  partitions: number;
  /** -1: kept forever. */
  retention_ms: number | null;
  cleanup_policy: string | null;
  earliest_retained_at: string | null;
  end_offsets: number[];
}

export interface GroupStatus {
  stage: 'enricher' | 'aggregator' | 'backfill';
  group: string;
  topic: string;
  state: string;
  members: number;
  lag: number | null;
  partitions: { partition: number; committed: number | null; end: number; lag: number | null }[];
  last_commit_at: string | null;
}

/** Thresholds of "degraded". */
export interface StatusLimits {
  /** Event time newer than this behind now is fresh (default 5 min). */
  maxFreshnessLagMs: number;
}

/** Healthy, or degraded with the reasons (pure). */
export function verdict(r: Omit<StatusReport, 'healthy' | 'reasons'>, limits: StatusLimits): string[] {
  const reasons: string[] = [];
  if (!r.stack.broker.up) reasons.push(`the Kafka broker at ${r.stack.broker.address} does not answer`);
  if (!r.stack.registry.up) reasons.push(`the schema registry at ${r.stack.registry.url} does not answer`);
  if (!r.stack.broker.up) return reasons;
  for (const t of r.topics) if (!t.exists) reasons.push(`topic ${t.name} does not exist (cdc topics create)`);
  for (const g of r.groups) {
    if (g.stage === 'backfill') continue;
    if (g.members === 0) reasons.push(`no ${g.stage} is running (group ${g.group} has no members)`);
  }
  if (r.aggregator.error) reasons.push(`aggregator database: ${r.aggregator.error}`);
  if (r.freshness.lag_ms !== null && r.freshness.lag_ms > limits.maxFreshnessLagMs) {
    reasons.push(
      `gold is ${Math.round(r.freshness.lag_ms / 1000)} s behind the newest event (limit ${Math.round(limits.maxFreshnessLagMs / 1000)} s)`,
    );
  }
  return reasons;
}

const iso = { type: 'string', format: 'date-time' } as const;
const nullable = (schema: Record<string, unknown>) => ({ anyOf: [schema, { type: 'null' }] });
const int = { type: 'integer' } as const;
const str = { type: 'string' } as const;
const obj = (properties: Record<string, unknown>) => ({
  type: 'object',
  additionalProperties: false,
  required: Object.keys(properties),
  properties,
});

/** JSON Schema (draft 2020-12) of `cdc status --json`. */
export const STATUS_JSON_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  title: 'cdc status --json',
  ...obj({
    generated_at: iso,
    healthy: { type: 'boolean' },
    reasons: { type: 'array', items: str },
    stack: obj({
      broker: obj({
        address: str,
        up: { type: 'boolean' },
        brokers: nullable(int),
        version: nullable(str),
        error: nullable(str),
      }),
      registry: obj({ url: str, up: { type: 'boolean' }, version: nullable(str), error: nullable(str) }),
    }),
    topics: {
      type: 'array',
      items: obj({
        role: { enum: ['bronze', 'silver', 'gold', 'dead-letter', 'control'] },
        name: str,
        exists: { type: 'boolean' },
        partitions: int,
        retention_ms: nullable(int),
        cleanup_policy: nullable(str),
        earliest_retained_at: nullable(iso),
        end_offsets: { type: 'array', items: int },
      }),
    },
    groups: {
      type: 'array',
      items: obj({
        stage: { enum: ['enricher', 'aggregator', 'backfill'] },
        group: str,
        topic: str,
        state: str,
        members: int,
        lag: nullable(int),
        partitions: {
          type: 'array',
          items: obj({ partition: int, committed: nullable(int), end: int, lag: nullable(int) }),
        },
        last_commit_at: nullable(iso),
      }),
    },
    aggregator: obj({
      db: str,
      batches: {
        type: 'array',
        items: obj({ at: iso, changes: int, applied: int, duration_ms: { type: 'number' } }),
      },
      error: nullable(str),
    }),
    dead_letters: nullable(int),
    freshness: obj({ newest_event_at: nullable(iso), lag_ms: nullable(int) }),
    backfill: nullable(
      obj({
        epoch: int,
        status: str,
        time_zone: str,
        rules_version: str,
        done: nullable(int),
        total: nullable(int),
      }),
    ),
  }),
} as const;
