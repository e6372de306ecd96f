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
  /**
   * Event time: the newest booking change in gold and how far it is behind now. Shown, never
   * judged: seeded or imported history is old by design; keeping up is the groups' `wait_ms`.
   */
  freshness: { newest_event_at: string | null; event_age_ms: number | null };
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
  /** When the oldest record this stage has not committed yet was written to its topic (null: none waits). */
  oldest_waiting_at: string | null;
  /** How long that record has waited (0 when the group is caught up; null when unknown). */
  wait_ms: number | null;
}

/** Thresholds of "degraded". */
export interface StatusLimits {
  /** A stage keeps up while no record waits longer than this for it (default 5 min). */
  maxWaitMs: number;
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
  // Keeping up is judged from processing (records waiting between topics), never from event
  // time against the wall clock: a caught-up pipeline over old (seeded, imported) data is healthy.
  for (const g of r.groups) {
    // A backfill re-reads bronze from its start by design: its progress is shown, not judged.
    if (g.stage === 'backfill' || g.wait_ms === null || g.wait_ms <= limits.maxWaitMs) continue;
    reasons.push(
      `the ${g.stage} is behind: a record of ${g.topic} has waited ${Math.round(g.wait_ms / 1000)} s (limit ${Math.round(limits.maxWaitMs / 1000)} s, lag ${g.lag ?? '?'})`,
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
        oldest_waiting_at: nullable(iso),
        wait_ms: nullable(int),
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
    freshness: obj({ newest_event_at: nullable(iso), event_age_ms: nullable(int) }),
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
