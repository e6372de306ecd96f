import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
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
  type EnrichedBookingChange,
  type Logger,
  type TopicNames,
  type Admin,
  type Kafka,
} from '@cdc/core';
import { loadAggregatorConfig, type AggregatorConfig } from '@cdc/aggregator';
import { changeStream, enrich, randomSuffix, withDisorder } from '@cdc/testing';

/**
 * Shared set-up of the aggregator benchmarks: own topics (random prefix) on the broker in
 * KAFKA_BROKERS / SCHEMA_REGISTRY_URL, BENCH_EVENTS enriched changes produced to silver in
 * transactions (as the enricher writes them), a temporary database folder; `cleanup()` deletes it all.
 */
export interface BenchSetup {
  events: number;
  partitions: number;
  bookings: number;
  movies: number;
  topics: TopicNames;
  kafka: Kafka;
  admin: Admin;
  logger: Logger;
  config: AggregatorConfig;
  produceSeconds: number;
  cleanup(): Promise<void>;
}

const int = (name: string, fallback: number): number => {
  const v = process.env[name];
  const n = v === undefined ? fallback : Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive whole number, got ${v}`);
  return n;
};

/** A quarter of the changes create a booking, the rest change or delete one. */
const INPUT_MIX = { create: 25, cancel: 25, update: 40, delete: 10 };

export const progress = (msg: string): void => {
  process.stderr.write(`[bench] ${msg}\n`);
};

export async function setUp(name: string): Promise<BenchSetup> {
  const events = int('BENCH_EVENTS', 300_000);
  const partitions = int('BENCH_PARTITIONS', 3);
  const bookings = int('BENCH_BOOKINGS', 50_000);
  const movies = int('BENCH_MOVIES', 200);
  const prefix = `bench-${name}-${randomSuffix()}.`;
  const connection = loadConnectionConfig({ ...process.env, TOPIC_PREFIX: prefix });
  const logger = createLogger(`bench-${name}`, (process.env.LOG_LEVEL as 'warn' | undefined) ?? 'warn');
  const kafka = createKafka(connection, logger);
  const admin = kafka.admin();
  await admin.connect();
  const topics = topicNames(prefix);
  const dir = mkdtempSync(path.join(tmpdir(), `cdc-bench-${name}-`));
  const cleanup = async () => {
    await admin.deleteGroups([`${prefix}aggregator`]).catch(() => undefined);
    await admin.deleteTopics({ topics: allTopics(topics), timeout: 30_000 }).catch(() => undefined);
    await admin.disconnect();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await ensureTopics(admin, topics, partitions);
    const schema = loadSchema('EnrichedBookingChange');
    const registry = createRegistryClient(connection.registryUrl);
    const encoder = await createEncoder<EnrichedBookingChange>(
      registry,
      valueSubject(topics.silver),
      schema.text,
      schema.type,
    );
    // Seed 42: the same silver on every run. Changes of up to `bookings` bookings at once, 10 %
    // re-deliveries (duplicates and stale versions), 5 % of the images with bad data.
    const next = withDisorder(
      changeStream({ seed: 42, liveBookings: bookings, movies, mix: INPUT_MIX, dirtyRatio: 0.05 }),
      { seed: 43, redeliveryRate: 0.1 },
    );
    const producer = kafka.producer({
      transactionalId: `${prefix}bench-producer`,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    progress(`producing ${events} enriched changes to ${topics.silver} (${partitions} partitions)`);
    const t0 = performance.now();
    const chunk = 5000;
    for (let i = 0; i < events; i += chunk) {
      const messages = [];
      for (let j = i; j < Math.min(events, i + chunk); j++) {
        const e = enrich(next(), { enrichedAtMs: 0 });
        messages.push({ key: (e.after ?? e.before)?.booking_id ?? '', value: encoder.encode(e) });
      }
      const txn = await producer.transaction();
      await txn.send({ topic: topics.silver, messages });
      await txn.commit();
      if ((i / chunk) % 10 === 0) progress(`produced ${i + messages.length}/${events}`);
    }
    await producer.disconnect();
    const produceSeconds = (performance.now() - t0) / 1000;
    progress(`produced ${events} in ${produceSeconds.toFixed(1)} s`);
    const config = loadAggregatorConfig({
      ...process.env,
      TOPIC_PREFIX: prefix,
      AGGREGATOR_DB_PATH: path.join(dir, 'aggregator.db'),
      AGGREGATOR_OPS_PORT: '0',
      AGGREGATOR_GROUP_ID: `${prefix}aggregator`,
    });
    return {
      events,
      partitions,
      bookings,
      movies,
      topics,
      kafka,
      admin,
      logger,
      config,
      produceSeconds,
      cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** Next offsets at the end of silver, per partition. */
export async function endOffsets(s: BenchSetup): Promise<Map<number, number>> {
  const offsets = await s.admin.fetchTopicOffsets(s.topics.silver);
  return new Map(offsets.map((o) => [o.partition, Number(o.high)]));
}
