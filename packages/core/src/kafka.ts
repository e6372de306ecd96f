import { Kafka, logLevel as KafkaLogLevel, type Admin, type LogEntry } from 'kafkajs';
import { UsageError } from './errors';
import type { ConnectionConfig } from './config';
import type { Logger } from './logger';
import type { OutageTracker } from './lifecycle/outage';
import { topicSpecs, type TopicNames, type TopicOptions } from './topics';
import { waitFor } from './wait';

// kafkajs logs every protocol error it is about to retry (coordinator loading, concurrent
// transactions) at ERROR: those are warnings for us. Our own code logs real failures.
const levelName: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [KafkaLogLevel.ERROR]: 'warn',
  [KafkaLogLevel.WARN]: 'warn',
  [KafkaLogLevel.INFO]: 'info',
  [KafkaLogLevel.DEBUG]: 'debug',
};

/**
 * kafkajs warns that bounding an idempotent producer's retries "may invalidate EoS guarantees".
 * Our producers bound them on purpose (a send that gives up fails its batch or aborts its
 * transaction instead of hanging), so the warning would only mislead: it is logged at debug.
 */
const BOUNDED_RETRIES_WARNING = 'Limiting retries for the idempotent producer';

/**
 * kafkajs logs every failed connection, request timeout, consumer crash and restart of an outage
 * at ERROR, many times a second while a broker is down. Those lines go to debug; a connection
 * failure is reported to the outage tracker instead, which logs once per outage (see
 * lifecycle/outage.ts). Protocol errors of a broker starting up (coordinator loading, no leader
 * yet) are retried by kafkajs and go to debug too.
 */
const CONNECTION_FAILURE =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|Connection error|Connection timeout|Closed connection|timed out|KafkaJSConnection|KafkaJSNumberOfRetriesExceeded|Failed to connect to seed broker/i;
const RETRIED_NOISE =
  /^Crash: |Restarting the consumer|coordinator|not the leader|LEADER_NOT_AVAILABLE|NOT_COORDINATOR|COORDINATOR_|The group is rebalancing|Failed to find group coordinator|Response (Metadata|Heartbeat|JoinGroup|SyncGroup|OffsetCommit|LeaveGroup)/i;

export function kafkaLogDisposition(message: string, error: unknown): 'outage' | 'noise' | 'log' {
  const text = `${message} ${typeof error === 'string' ? error : ''}`;
  if (CONNECTION_FAILURE.test(text)) return 'outage';
  if (RETRIED_NOISE.test(text)) return 'noise';
  return 'log';
}

/** A kafkajs client whose logs go to our structured logger (kafkajs INFO chatter is demoted to debug). */
export function createKafka(
  config: Pick<ConnectionConfig, 'brokers' | 'clientId'>,
  logger: Logger,
  options: { connectionTimeoutMs?: number; retries?: number; outages?: Pick<OutageTracker, 'failed'> } = {},
): Kafka {
  process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';
  const log = logger.child({ component: 'kafkajs' });
  const outages = options.outages;
  return new Kafka({
    clientId: config.clientId,
    brokers: config.brokers,
    connectionTimeout: options.connectionTimeoutMs ?? 3000,
    retry: { retries: options.retries ?? 5, initialRetryTime: 100, maxRetryTime: 2000 },
    logLevel: KafkaLogLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }: LogEntry) => {
        const { message, ...rest } = entry;
        const name = levelName[level] ?? 'info';
        if (name === 'info' || message.startsWith(BOUNDED_RETRIES_WARNING)) {
          log.debug(rest, message);
          return;
        }
        const disposition = kafkaLogDisposition(message, rest.error);
        if (disposition === 'log' || (disposition === 'outage' && !outages)) {
          log[name](rest, message);
          return;
        }
        log.debug(rest, message);
        if (disposition === 'outage') {
          outages?.failed('broker', new Error(typeof rest.error === 'string' ? rest.error : message));
        }
      },
  });
}

/**
 * Creates the contract's topics if missing. Returns the names created now. Idempotent: existing
 * topics are left as they are (see retention.ts to report what they keep).
 */
export async function ensureTopics(
  admin: Admin,
  names: TopicNames,
  partitions: number,
  options: TopicOptions = {},
): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = topicSpecs(names, partitions, options).filter((s) => !existing.has(s.topic));
  if (missing.length === 0) return [];
  await admin.createTopics({ topics: missing, waitForLeaders: false });
  // kafkajs's own waitForLeaders retries LEADER_NOT_AVAILABLE only; a KRaft broker may answer
  // UNKNOWN_TOPIC_OR_PARTITION for a moment after the creation, which kafkajs then throws.
  const created = missing.map((s) => s.topic);
  await waitFor(
    async () => {
      try {
        const { topics } = await admin.fetchTopicMetadata({ topics: created });
        return topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0));
      } catch {
        return false;
      }
    },
    { timeoutMs: 30_000, intervalMs: 100, what: `leaders of the new topics ${created.join(', ')}` },
  );
  return created;
}

/** Runs `fn` with a connected admin client, always disconnecting it. */
export async function withAdmin<T>(kafka: Kafka, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Parses a point in time given as ISO 8601 or epoch milliseconds; throws UsageError naming `option`. */
export function parseTimestamp(option: string, value: string): number {
  const ms = /^\d+$/.test(value.trim()) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms)) {
    throw new UsageError(
      `${option} must be a time in ISO 8601 (2025-09-03T10:00:00Z) or epoch milliseconds, got '${value}'`,
    );
  }
  return ms;
}

/**
 * Offset commits carry their commit time in the commit's metadata (`t=<epoch ms>`): Kafka keeps
 * no commit time a client can read, and `cdc status` shows when each group last committed.
 */
export const commitMetadata = (nowMs: number = Date.now()): string => `t=${nowMs}`;

/** The commit time written by `commitMetadata`, or null. */
export function commitTimeOf(metadata: string | null | undefined): number | null {
  const m = /^t=(\d+)$/.exec(metadata ?? '');
  return m ? Number(m[1]) : null;
}
