import {
  createEncoder,
  createRegistryClient,
  frame,
  loadSchema,
  type BookingChange,
  type MovieKpis,
  type Message,
} from '@cdc/core';
import {
  bookingChanges,
  bronzeEncoder,
  bronzeMessage,
  CHURN_MIX,
  createTestContext,
  decodeSilver,
  produceAll,
  readToEnd,
  seededRandom,
  testSeed,
  type TestContext,
} from '@cdc/testing';
import { createDeriver } from '@cdc/bookings';
import { loadEnricherConfig, readDeadLetterHeaders, startEnricher, type Enricher } from '../../src';
import { outOfOrderBookings, waitForGroupCaughtUp } from '../helpers/kafka';

interface Bad {
  message: Message;
  codes: string[];
}

const kpis: MovieKpis = {
  movie_id: 'M001',
  total_bookings: 1,
  valid_bookings: 1,
  invalid_bookings: 0,
  data_quality_score: 100,
  active_bookings: 1,
  cancelled_bookings: 0,
  total_tickets: 2,
  total_active_revenue_cents: 3000,
  total_lost_revenue_cents: 0,
  total_gross_revenue_cents: 3000,
  single_bookings: 0,
  group_bookings: 1,
  large_group_bookings: 0,
  budget_bookings: 0,
  standard_bookings: 1,
  premium_bookings: 0,
  cancellation_rate_percent: 0,
  active_rate_percent: 100,
  avg_revenue_per_active_booking_cents: 3000,
  booking_days: 1,
  active_hours: 1,
  new_bookings: 1,
  status_changes: 0,
  updates: 0,
  deleted_bookings: 0,
  updated_at: 1,
  last_event_ts_ms: 1,
  snapshot_version: 1,
};

describe('enricher: dead letters and bad data', () => {
  let ctx: TestContext;
  let enricher: Enricher | undefined;

  beforeEach(async () => {
    ctx = await createTestContext({ name: 'enr-dlq', partitions: 3 });
  });
  afterEach(async () => {
    await enricher?.close();
    enricher = undefined;
    await ctx.cleanup();
  });

  it('dead-letters exactly 100 malformed records among 10,000 good ones, in order, without a consumer restart', async () => {
    const registry = createRegistryClient(ctx.connection.registryUrl);
    const seed = testSeed('enricher dead letters');
    const random = seededRandom(seed + 10); // the bad bytes
    const encoder = await bronzeEncoder(registry, ctx.topics.bronze);
    const changes = bookingChanges(10_000, { seed, liveBookings: 1500, mix: CHURN_MIX, dirtyRatio: 0.05 });
    const good = changes.map((c) => bronzeMessage(encoder, c));
    const valid = encoder.encode(changes[0]!);
    const body = valid.subarray(5);
    const foreign = await createEncoder<MovieKpis>(
      registry,
      `${ctx.topics.gold}-value`,
      loadSchema('MovieKpis').text,
      loadSchema('MovieKpis').type,
    );

    const bad: Bad[] = [];
    const add = (value: Buffer | null, codes: string[]) =>
      bad.push({
        message: { key: `bad-${bad.length}`, value, headers: { origin: 'test' } },
        codes,
      });
    for (let i = 0; i < 20; i++) {
      const bytes = random.bytes(5 + (i % 30));
      bytes[0] = 1 + (bytes[0]! % 255);
      add(bytes, ['WRONG_MAGIC_BYTE']);
    }
    for (let i = 0; i < 20; i++)
      add(Buffer.concat([Buffer.from([1 + i]), valid.subarray(1)]), ['WRONG_MAGIC_BYTE']);
    for (let i = 0; i < 20; i++) add(frame(0x7fff0000 + i, body), ['UNKNOWN_SCHEMA_ID']);
    for (let i = 0; i < 20; i++) add(frame(encoder.schemaId, body.subarray(0, 3 + i)), ['SCHEMA_MISMATCH']);
    for (let i = 0; i < 10; i++)
      add(frame(encoder.schemaId, Buffer.concat([body, random.bytes(1 + i)])), ['SCHEMA_MISMATCH']);
    // A valid record of another schema: its writer schema cannot be read as a BookingChange.
    for (let i = 0; i < 5; i++) add(foreign.encode(kpis), ['SCHEMA_MISMATCH', 'UNKNOWN_SCHEMA_ID']);
    for (let i = 0; i < 4; i++) add(Buffer.from([0, 0, 0].slice(0, i)), ['TRUNCATED_FRAME']);
    add(null, ['TRUNCATED_FRAME']);
    expect(bad).toHaveLength(100);

    // Spread the bad records through the good ones (deterministically).
    const mixed: Message[] = [...good];
    bad.forEach((b, i) => mixed.splice(((i * 7919) % mixed.length) + 1, 0, b.message));
    await produceAll(ctx.kafka, ctx.topics.bronze, mixed, { perSend: 1000 });

    const config = loadEnricherConfig({
      ...process.env,
      KAFKA_BROKERS: ctx.connection.brokers.join(','),
      SCHEMA_REGISTRY_URL: ctx.connection.registryUrl,
      TOPIC_PREFIX: ctx.connection.topicPrefix,
      ENRICHER_INSTANCE_ID: 'dlq-test',
      ENRICHER_OPS_PORT: '0',
      ENRICHER_CHUNK_RECORDS: '700',
    });
    enricher = await startEnricher(config, ctx.logger);
    await waitForGroupCaughtUp(ctx, config.groupId, ctx.topics.bronze, 90_000);

    // Where each bad record landed in bronze, to check the dead letters' source headers.
    const bronze = await readToEnd(ctx, ctx.topics.bronze);
    const dlq = await readToEnd(ctx, ctx.topics.deadLetter);
    const silverMessages = await readToEnd(ctx, ctx.topics.silver);

    // Exactly the 100 bad records, each once, with original key, value and headers.
    expect(dlq).toHaveLength(100);
    const bronzeByKey = new Map(bronze.map((m) => [m.key?.toString(), m]));
    const dlqByKey = new Map(dlq.map((m) => [m.key?.toString(), m]));
    expect(dlqByKey.size).toBe(100);
    for (const b of bad) {
      const key = b.message.key as string;
      const letter = dlqByKey.get(key);
      expect(letter).toBeDefined();
      const source = bronzeByKey.get(key)!;
      const h = readDeadLetterHeaders(letter!.headers);
      expect(b.codes).toContain(h.errorCode);
      expect(h.errorMessage.length).toBeGreaterThan(0);
      expect(h.sourceTopic).toBe(ctx.topics.bronze);
      expect(h.sourceOffset).toBe(source.offset);
      expect(h.sourceTimestamp).toBe(source.timestamp);
      expect(Number(h.sourcePartition)).toBeGreaterThanOrEqual(0);
      expect(letter!.headers?.origin?.toString()).toBe('test');
      if (b.message.value === null) expect(letter!.value).toBeNull();
      else expect(Buffer.compare(letter!.value!, b.message.value as Buffer)).toBe(0);
    }
    // Source partitions: the bad record's partition is the one it was read from.
    const partitionsOfBad = new Set(dlq.map((m) => readDeadLetterHeaders(m.headers).sourcePartition));
    expect(partitionsOfBad.size).toBeGreaterThan(1);

    // All 10,000 good records in silver, once each, enriched exactly as the rules say.
    const silver = await decodeSilver(ctx, silverMessages);
    expect(silver).toHaveLength(10_000);
    expect(new Set(silver.map((s) => s.event_id)).size).toBe(10_000);
    const deriver = createDeriver('UTC');
    const byId = new Map<string, BookingChange>(changes.map((c) => [c.event_id, c]));
    for (const s of silver) expect(s).toEqual(deriver.change(byId.get(s.event_id)!, s.enriched_at));
    // Bad data (good bytes) flows on, flagged.
    const invalid = silver.filter(
      (s) => s.after?.is_valid_booking === false || s.before?.is_valid_booking === false,
    );
    expect(invalid.length).toBeGreaterThan(200);
    for (const s of invalid) {
      for (const image of [s.before, s.after]) {
        if (image && !image.is_valid_booking) expect(image.validation_errors.length).toBeGreaterThan(0);
      }
    }
    // Keyed by booking_id, each booking's changes in order.
    silverMessages.forEach((m, i) =>
      expect(m.key?.toString()).toBe((silver[i]!.after ?? silver[i]!.before)!.booking_id),
    );
    expect(outOfOrderBookings(silver)).toEqual([]);

    // The consumer never crashed or restarted; the counters agree.
    const stats = enricher.stats();
    expect(stats.consumerCrashes).toBe(0);
    expect(stats.rebalances).toBe(1);
    expect(stats.recordsIn).toBe(10_100);
    expect(stats.recordsOut).toBe(10_000);
    expect(stats.deadLettered).toBe(100);
    expect(stats.recordsInvalid).toBe(invalid.length);
    expect(stats.transactionsCommitted).toBeGreaterThan(0);

    const metrics = await (await fetch(`http://127.0.0.1:${enricher.opsPort}/metrics`)).text();
    expect(metrics).toContain(
      'cdc_enricher_records_dead_lettered_total{code="WRONG_MAGIC_BYTE",service="enricher"} 40',
    );
    expect(metrics).toMatch(/cdc_enricher_records_out_total\{service="enricher"\} 10000/);
    expect(metrics).toMatch(
      /cdc_enricher_consumer_lag_records\{topic="[^"]+",partition="0",service="enricher"\} 0/,
    );
    const health = await fetch(`http://127.0.0.1:${enricher.opsPort}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true, instanceId: 'dlq-test' });
  });
});
