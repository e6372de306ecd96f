import {
  allTopics,
  createEncoder,
  createKafka,
  createLogger,
  createRegistryClient,
  ensureTopics,
  loadConnectionConfig,
  loadSchema,
  topicNames,
  valueSubject,
  type ConnectionConfig,
  type Encoder,
  type MovieKpis,
  type RegistryClient,
  type TopicNames,
  type Admin,
  type Kafka,
  type Producer,
} from '@cdc/core';
import { randomSuffix } from '@cdc/testing';

/**
 * What the benchmarks that feed gold snapshots to one service share (bench/alerts/latency.ts,
 * bench/live-ui/latency.ts): settings from the environment, topics of their own on the broker,
 * a MovieKpis encoder and a producer for gold, the service's CPU from its /metrics, quantiles.
 * Not a benchmark itself (bench/run.js skips this folder).
 */

/** A positive number from the environment, or `def`. */
export function positiveSetting(name: string, def: number): number {
  const v = Number(process.env[name] ?? def);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number`);
  return v;
}

/** The value at percentile `p` (0–100) of ascending `sorted` values (NaN when empty). */
export const percentile = (sorted: ArrayLike<number>, p: number): number =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

/** A service's CPU seconds so far, from `process_cpu_seconds_total` on its /metrics. */
export async function cpuSeconds(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = /^process_cpu_seconds_total\{[^}]*\} ([\d.e+-]+)$/m.exec(text);
  if (!m) throw new Error('process_cpu_seconds_total not found in /metrics');
  return Number(m[1]);
}

/** A MovieKpis snapshot of `movie`: plausible fields, `fields` over them. */
export function movieKpis(
  movie: string,
  version: number,
  eventTsMs: number,
  fields: Partial<MovieKpis> = {},
): MovieKpis {
  return {
    movie_id: movie,
    total_bookings: version,
    valid_bookings: version,
    invalid_bookings: 0,
    data_quality_score: 100,
    active_bookings: version,
    cancelled_bookings: 0,
    total_tickets: version,
    total_active_revenue_cents: version * 150,
    total_lost_revenue_cents: 0,
    total_gross_revenue_cents: version * 150,
    single_bookings: version,
    group_bookings: 0,
    large_group_bookings: 0,
    budget_bookings: 0,
    standard_bookings: version,
    premium_bookings: 0,
    cancellation_rate_percent: 0,
    active_rate_percent: 100,
    avg_revenue_per_active_booking_cents: 150,
    booking_days: 1,
    active_hours: 1,
    new_bookings: version,
    status_changes: 0,
    updates: 0,
    deleted_bookings: 0,
    updated_at: eventTsMs,
    last_event_ts_ms: eventTsMs,
    snapshot_version: version,
    ...fields,
  };
}

export interface GoldBench {
  readonly connection: ConnectionConfig;
  readonly kafka: Kafka;
  readonly admin: Admin;
  readonly registry: RegistryClient;
  readonly topics: TopicNames;
  /** Connected; `send` to `topics.gold` with `encoder`. */
  readonly producer: Producer;
  readonly encoder: Encoder<MovieKpis>;
  /** Disconnects and deletes the topics. */
  close(): Promise<void>;
}

/**
 * Topics of a benchmark's own (`<name>-<random>.` prefix, `partitions` each) on the broker of
 * KAFKA_BROKERS / SCHEMA_REGISTRY_URL, MovieKpis registered for gold, a producer connected.
 */
export async function openGoldBench(name: string, partitions: number): Promise<GoldBench> {
  const prefix = `${name}-${randomSuffix()}.`;
  const connection = loadConnectionConfig({ ...process.env, TOPIC_PREFIX: prefix, KAFKA_CLIENT_ID: name });
  const kafka = createKafka(connection, createLogger('bench', 'warn'));
  const topics = topicNames(prefix);
  const admin = kafka.admin();
  await admin.connect();
  const producer = kafka.producer();
  const close = async (): Promise<void> => {
    await producer.disconnect().catch(() => undefined);
    await admin.deleteTopics({ topics: allTopics(topics), timeout: 10_000 }).catch(() => undefined);
    await admin.disconnect();
  };
  try {
    await ensureTopics(admin, topics, partitions);
    const registry = createRegistryClient(connection.registryUrl);
    const { text, type } = loadSchema('MovieKpis');
    const encoder = await createEncoder<MovieKpis>(registry, valueSubject(topics.gold), text, type);
    await producer.connect();
    return { connection, kafka, admin, registry, topics, producer, encoder, close };
  } catch (err) {
    await close();
    throw err;
  }
}
