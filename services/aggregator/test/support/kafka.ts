import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  type Producer,
  createEncoder,
  createRegistryClient,
  loadSchema,
  valueSubject,
  waitFor,
  type BookingChange,
  type EnrichedBookingChange,
  type Encoder,
} from '@cdc/core';
import { enrich, randomSuffix, uniqueGroupId, type TestContext } from '@cdc/testing';
import { loadAggregatorConfig, type AggregatorConfig } from '../../src';

/** Helpers for the aggregator's integration tests (real broker and registry). */
export async function silverEncoder(ctx: TestContext): Promise<Encoder<EnrichedBookingChange>> {
  const schema = loadSchema('EnrichedBookingChange');
  const registry = createRegistryClient(ctx.connection.registryUrl);
  return createEncoder(registry, valueSubject(ctx.topics.silver), schema.text, schema.type);
}

/** Bronze changes enriched as the enricher would, as silver messages keyed by booking_id. */
export function silverMessages(encoder: Encoder<EnrichedBookingChange>, changes: BookingChange[]) {
  return changes.map((c) => {
    const e = enrich(c, { enrichedAtMs: c.ts_ms + 5 });
    return { key: (e.after ?? e.before)?.booking_id ?? '', value: encoder.encode(e) };
  });
}

/** Produces to silver in one transaction per chunk, as the enricher does. */
export async function produceTransactional(
  ctx: TestContext,
  messages: { key: string; value: Buffer }[],
  chunk = 500,
  producer?: Producer,
): Promise<void> {
  const p =
    producer ??
    ctx.track(
      ctx.kafka.producer({
        transactionalId: `test-tx-${randomSuffix()}`,
        idempotent: true,
        maxInFlightRequests: 1,
      }),
    );
  if (!producer) await p.connect();
  for (let i = 0; i < messages.length; i += chunk) {
    const txn = await p.transaction();
    await txn.send({ topic: ctx.topics.silver, messages: messages.slice(i, i + chunk) });
    await txn.commit();
  }
}

/** End offsets (last stable offsets) of silver per partition. */
export async function silverEnd(ctx: TestContext): Promise<Map<number, number>> {
  const offsets = await ctx.admin.fetchTopicOffsets(ctx.topics.silver);
  return new Map(offsets.map((o) => [o.partition, Number(o.high)]));
}

/** Waits until `stored()` (next offsets per partition) reaches silver's end on every partition. */
export async function waitForOffsets(
  ctx: TestContext,
  stored: () => Map<number, number>,
  timeoutMs = 60_000,
): Promise<Map<number, number>> {
  const end = await silverEnd(ctx);
  await waitFor(
    () => {
      const s = stored();
      return [...end].every(([p, e]) => (s.get(p) ?? 0) >= e);
    },
    { timeoutMs, what: `stored offsets to reach ${JSON.stringify([...end])}` },
  );
  return end;
}

export function tempDir(name: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), `cdc-${name}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function testConfig(
  ctx: TestContext,
  dbPath: string,
  extra: Record<string, string> = {},
): AggregatorConfig {
  return loadAggregatorConfig({
    ...process.env,
    KAFKA_BROKERS: ctx.connection.brokers.join(','),
    SCHEMA_REGISTRY_URL: ctx.connection.registryUrl,
    TOPIC_PREFIX: ctx.connection.topicPrefix,
    AGGREGATOR_DB_PATH: dbPath,
    AGGREGATOR_OPS_PORT: '0',
    AGGREGATOR_GROUP_ID: uniqueGroupId('aggregator'),
    AGGREGATOR_SESSION_TIMEOUT_MS: '6000',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    ...extra,
  });
}
