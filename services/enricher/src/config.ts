import { z } from 'zod';
import {
  assertTimeZone,
  ConfigError,
  connectionSchema,
  intSetting,
  loadConnectionConfig,
  parseEnv,
  topicNames,
  type ConnectionConfig,
  type Env,
  type TopicNames,
} from '@cdc/core';

/**
 * The enricher's settings, read and validated once at start. Every setting is an environment
 * variable; the CLI's options override them (see `cdc enrich --help`).
 */
export interface EnricherConfig {
  connection: ConnectionConfig;
  topics: TopicNames;
  /** Stable per instance: the transactional id is `<groupId>.<instanceId>`. Two instances need different ids. */
  instanceId: string;
  groupId: string;
  transactionalId: string;
  /**
   * The IANA zone the operator asked for (ENRICHER_TIME_ZONE / --time-zone), or undefined. The zone
   * in force is pipeline state (the control topic): an enricher started with a different one
   * refuses to start; the first enricher of a pipeline records its own (default UTC).
   */
  timeZone: string | undefined;
  /** Ops port for /healthz and /metrics (0 = a random free port). */
  opsPort: number;
  /** Records per chunk: the unit of work submitted to a transaction (several chunks may share one). */
  chunkRecords: number;
  /** Upper bound of records in one transaction. */
  transactionMaxRecords: number;
  /**
   * How long a unit that finds the committer idle waits for the other partitions' units of the
   * same fetch before its transaction starts (commit on size or this linger).
   */
  transactionLingerMs: number;
  /** Upper bound of bytes in one produce request (the broker refuses batches over message.max.bytes, 1 MiB). */
  sendMaxBytes: number;
  /** Consumer fetch sizes. */
  fetchMaxBytes: number;
  fetchMaxBytesPerPartition: number;
  /** Partitions processed concurrently by one instance (their chunks share transactions). */
  partitionsConcurrency: number;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  /**
   * LeaveGroup on stop. False (default): the stopped instance stays a member until its session
   * times out, so a restart within it resumes without rebalancing the other instances.
   */
  leaveGroupOnStop: boolean;
  /** The broker aborts a transaction left open longer than this (e.g. by a killed instance). */
  transactionTimeoutMs: number;
  /** Backoff between retries of a failed batch (registry or broker down, aborted transaction). */
  retryInitialMs: number;
  retryMaxMs: number;
}

const name = z.string().regex(/^[a-zA-Z0-9._-]{1,100}$/, 'use 1-100 letters, digits, ".", "_" or "-"');
const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

export const enricherSchema = connectionSchema.extend({
  ENRICHER_INSTANCE_ID: name
    .default('enricher-0')
    .describe(
      'stable id of this enricher instance; every running instance needs its own (its transactional id is <group>.<instance-id>)',
    ),
  ENRICHER_GROUP_ID: name
    .optional()
    .describe("the enricher's consumer group (default <TOPIC_PREFIX>cdc-enricher)"),
  ENRICHER_TIME_ZONE: z
    .string()
    .min(1)
    .optional()
    .superRefine((zone, ctx) => {
      try {
        if (zone !== undefined) assertTimeZone(zone);
      } catch (err) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: (err as Error).message });
      }
    })
    .describe(
      "IANA time zone of booking_date_only/booking_hour/day_of_week; recorded as the pipeline's on its first start (default UTC), afterwards it must match (change it with `cdc backfill --time-zone`)",
    ),
  ENRICHER_OPS_PORT: intSetting(0, 65535)
    .default(9471)
    .describe("port of the enricher's /healthz and /metrics, 0 = random"),
  ENRICHER_CHUNK_RECORDS: intSetting(1, 100_000)
    .default(5000)
    .describe('records per chunk, the unit of work submitted to a transaction'),
  ENRICHER_TRANSACTION_MAX_RECORDS: intSetting(1, 1_000_000)
    .default(50_000)
    .describe('most records in one transaction'),
  ENRICHER_TRANSACTION_LINGER_MS: intSetting(0, 1000)
    .default(3)
    .describe(
      "how long a chunk waits for the other partitions' chunks of the same fetch before its transaction starts (ms)",
    ),
  ENRICHER_SEND_MAX_BYTES: intSetting(16_384, 1_000_000)
    .default(900_000)
    .describe('most bytes in one produce request (the broker refuses batches over message.max.bytes)'),
  ENRICHER_FETCH_MAX_BYTES: intSetting(65_536, 100 * 1024 * 1024)
    .default(16 * 1024 * 1024)
    .describe('most bytes per fetch from bronze'),
  ENRICHER_FETCH_MAX_BYTES_PER_PARTITION: intSetting(16_384, 64 * 1024 * 1024)
    .default(4 * 1024 * 1024)
    .describe('most bytes per partition per fetch from bronze'),
  ENRICHER_PARTITIONS_CONCURRENCY: intSetting(1, 256)
    .default(8)
    .describe('partitions processed concurrently by one instance'),
  ENRICHER_SESSION_TIMEOUT_MS: intSetting(6000, 300_000)
    .default(30_000)
    .describe('consumer group session timeout (ms)'),
  ENRICHER_HEARTBEAT_INTERVAL_MS: intSetting(100, 60_000)
    .default(3000)
    .describe('consumer group heartbeat interval (ms)'),
  ENRICHER_LEAVE_GROUP_ON_STOP: bool
    .default('false')
    .describe(
      'true or false: leave the consumer group on stop, so its partitions move to the other instances at once (for an instance stopped for good); false keeps its membership until ENRICHER_SESSION_TIMEOUT_MS, so a restart within it resumes without a rebalance',
    ),
  ENRICHER_TRANSACTION_TIMEOUT_MS: intSetting(1000, 900_000)
    .default(30_000)
    .describe('the broker aborts a transaction left open longer than this, e.g. by a killed instance (ms)'),
  ENRICHER_RETRY_INITIAL_MS: intSetting(1, 60_000)
    .default(200)
    .describe('first backoff before retrying a failed batch (ms)'),
  ENRICHER_RETRY_MAX_MS: intSetting(1, 600_000)
    .default(10_000)
    .describe('longest backoff between retries of a failed batch (ms)'),
});

/** An enricher instance's transactional id: stable per instance, so a restart fences its predecessor. */
export const transactionalIdFor = (groupId: string, instanceId: string): string => `${groupId}.${instanceId}`;

/** Reads the enricher's settings from `env` (CLI options are merged into `env` by the caller). */
export function loadEnricherConfig(env: Env = process.env): EnricherConfig {
  const e = parseEnv(enricherSchema, env);
  const connection = loadConnectionConfig(env);
  if (e.ENRICHER_HEARTBEAT_INTERVAL_MS * 3 > e.ENRICHER_SESSION_TIMEOUT_MS) {
    throw new ConfigError(
      `Invalid configuration:\n  ENRICHER_HEARTBEAT_INTERVAL_MS=${e.ENRICHER_HEARTBEAT_INTERVAL_MS}: must be at most a third of ENRICHER_SESSION_TIMEOUT_MS (${e.ENRICHER_SESSION_TIMEOUT_MS})`,
    );
  }
  if (e.ENRICHER_RETRY_INITIAL_MS > e.ENRICHER_RETRY_MAX_MS) {
    throw new ConfigError(
      `Invalid configuration:\n  ENRICHER_RETRY_INITIAL_MS=${e.ENRICHER_RETRY_INITIAL_MS}: must not exceed ENRICHER_RETRY_MAX_MS (${e.ENRICHER_RETRY_MAX_MS})`,
    );
  }
  const groupId = e.ENRICHER_GROUP_ID ?? `${connection.topicPrefix}cdc-enricher`;
  return {
    connection,
    topics: topicNames(connection.topicPrefix),
    instanceId: e.ENRICHER_INSTANCE_ID,
    groupId,
    transactionalId: transactionalIdFor(groupId, e.ENRICHER_INSTANCE_ID),
    timeZone: e.ENRICHER_TIME_ZONE,
    opsPort: e.ENRICHER_OPS_PORT,
    chunkRecords: e.ENRICHER_CHUNK_RECORDS,
    transactionMaxRecords: Math.max(e.ENRICHER_TRANSACTION_MAX_RECORDS, e.ENRICHER_CHUNK_RECORDS),
    transactionLingerMs: e.ENRICHER_TRANSACTION_LINGER_MS,
    sendMaxBytes: e.ENRICHER_SEND_MAX_BYTES,
    fetchMaxBytes: e.ENRICHER_FETCH_MAX_BYTES,
    fetchMaxBytesPerPartition: e.ENRICHER_FETCH_MAX_BYTES_PER_PARTITION,
    partitionsConcurrency: e.ENRICHER_PARTITIONS_CONCURRENCY,
    sessionTimeoutMs: e.ENRICHER_SESSION_TIMEOUT_MS,
    heartbeatIntervalMs: e.ENRICHER_HEARTBEAT_INTERVAL_MS,
    leaveGroupOnStop: e.ENRICHER_LEAVE_GROUP_ON_STOP,
    transactionTimeoutMs: e.ENRICHER_TRANSACTION_TIMEOUT_MS,
    retryInitialMs: e.ENRICHER_RETRY_INITIAL_MS,
    retryMaxMs: e.ENRICHER_RETRY_MAX_MS,
  };
}
