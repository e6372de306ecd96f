import { createHash } from 'node:crypto';
import path from 'node:path';
import { z } from 'zod';
import {
  connectionSchema,
  intSetting,
  loadConnectionConfig,
  parseEnv,
  topicNames,
  type ConnectionConfig,
  type Env,
  type TopicNames,
} from '@cdc/core';
import { DEFAULT_DB_PATH } from '@cdc/read-model';

/**
 * The aggregator's settings, read and validated once at start. Every setting is an environment
 * variable; the CLI's options override them (see `cdc aggregate --help`).
 */
export interface AggregatorConfig {
  connection: ConnectionConfig;
  topics: TopicNames;
  /** The SQLite database (shared read-only with the live UI through the same AGGREGATOR_DB_PATH). */
  dbPath: string;
  /** Consumer group (offsets live in SQLite; the group's Kafka commits are for lag monitoring only). */
  groupId: string;
  /**
   * Static group membership id: stable per instance, so a restarted aggregator takes its
   * partitions back at once. Default: derived from the database's absolute path (one database,
   * one instance; the database lock already forbids two).
   */
  instanceId: string;
  /** Ops port for /healthz and /metrics (0 = a random free port). */
  opsPort: number;
  /** Publish a MovieKpis snapshot to gold after every batch. */
  publishGold: boolean;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  /** LeaveGroup on stop; false (default) keeps the membership until the session times out. */
  leaveGroupOnStop: boolean;
  fetchMaxBytes: number;
  fetchMaxBytesPerPartition: number;
  /** Kafka commits (lag monitoring only) at most this often. */
  commitIntervalMs: number;
  /** Retry a failed gold publish this often while it keeps failing. */
  publishRetryMs: number;
}

const name = z.string().regex(/^[a-zA-Z0-9._-]{1,200}$/, 'use 1-200 letters, digits, ".", "_" or "-"');
const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

export const aggregatorSchema = connectionSchema.extend({
  AGGREGATOR_DB_PATH: z
    .string()
    .min(1, 'must be a file path')
    .default(DEFAULT_DB_PATH)
    .describe("the aggregator's SQLite database, shared read-only with the dashboard"),
  AGGREGATOR_GROUP_ID: name
    .optional()
    .describe("the aggregator's consumer group (default <TOPIC_PREFIX>cdc-aggregator)"),
  AGGREGATOR_INSTANCE_ID: name
    .optional()
    .describe('static group membership id of this aggregator (default: derived from the database path)'),
  AGGREGATOR_OPS_PORT: intSetting(0, 65535)
    .default(9472)
    .describe("port of the aggregator's /healthz and /metrics, 0 = random"),
  AGGREGATOR_PUBLISH_GOLD: bool
    .default('true')
    .describe('publish MovieKpis snapshots to the gold topic: true or false'),
  AGGREGATOR_SESSION_TIMEOUT_MS: intSetting(6000, 300_000)
    .default(10_000)
    .describe('consumer group session timeout (ms)'),
  AGGREGATOR_HEARTBEAT_INTERVAL_MS: intSetting(100, 60_000)
    .default(1000)
    .describe('consumer group heartbeat interval (ms)'),
  AGGREGATOR_LEAVE_GROUP_ON_STOP: bool
    .default('false')
    .describe(
      'true or false: leave the consumer group on stop; false keeps the membership until AGGREGATOR_SESSION_TIMEOUT_MS, so a restart within it resumes without a rebalance',
    ),
  AGGREGATOR_FETCH_MAX_BYTES: intSetting(65_536, 256 * 1024 * 1024)
    .default(50 * 1024 * 1024)
    .describe('most bytes per fetch from silver'),
  AGGREGATOR_FETCH_MAX_BYTES_PER_PARTITION: intSetting(16_384, 128 * 1024 * 1024)
    .default(16 * 1024 * 1024)
    .describe('most bytes per partition per fetch from silver'),
  AGGREGATOR_COMMIT_INTERVAL_MS: intSetting(0, 600_000)
    .default(1000)
    .describe(
      "how often the group's offsets are committed to Kafka for lag monitoring (ms; the database holds the real ones)",
    ),
  AGGREGATOR_PUBLISH_RETRY_MS: intSetting(100, 600_000)
    .default(2000)
    .describe('backoff before retrying a failed gold publish (ms)'),
});

/** Reads the aggregator's settings from `env` (CLI options are merged into `env` by the caller). */
export function loadAggregatorConfig(env: Env = process.env): AggregatorConfig {
  const e = parseEnv(aggregatorSchema, env);
  const connection = loadConnectionConfig(env);
  return {
    connection,
    topics: topicNames(connection.topicPrefix),
    dbPath: e.AGGREGATOR_DB_PATH,
    groupId: e.AGGREGATOR_GROUP_ID ?? `${connection.topicPrefix}cdc-aggregator`,
    instanceId:
      e.AGGREGATOR_INSTANCE_ID ??
      `aggregator-${createHash('sha256').update(path.resolve(e.AGGREGATOR_DB_PATH)).digest('hex').slice(0, 12)}`,
    opsPort: e.AGGREGATOR_OPS_PORT,
    publishGold: e.AGGREGATOR_PUBLISH_GOLD,
    sessionTimeoutMs: e.AGGREGATOR_SESSION_TIMEOUT_MS,
    heartbeatIntervalMs: e.AGGREGATOR_HEARTBEAT_INTERVAL_MS,
    leaveGroupOnStop: e.AGGREGATOR_LEAVE_GROUP_ON_STOP,
    fetchMaxBytes: e.AGGREGATOR_FETCH_MAX_BYTES,
    fetchMaxBytesPerPartition: e.AGGREGATOR_FETCH_MAX_BYTES_PER_PARTITION,
    commitIntervalMs: e.AGGREGATOR_COMMIT_INTERVAL_MS,
    publishRetryMs: e.AGGREGATOR_PUBLISH_RETRY_MS,
  };
}
