import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRegistryClient, sleep, waitFor } from '@cdc/core';
import {
  bookingChanges,
  bronzeEncoder,
  bronzeMessage,
  CHURN_MIX,
  createTestContext,
  decodeSilver,
  produceAll,
  readToEnd,
  testSeed,
  type TestContext,
} from '@cdc/testing';
import { loadEnricherConfig, startEnricher, type Enricher, type EnricherConfig } from '../../src';
import { committedSum, outOfOrderBookings, waitForGroupCaughtUp } from '../helpers/kafka';

/** A proxy in front of the schema registry that can play dead (503). */
async function startRegistryProxy(
  target: string,
): Promise<{ url: string; down: boolean; close(): Promise<void> }> {
  const origin = new URL(target).origin;
  const state = { down: false };
  const server = http.createServer((req, res) => {
    if (state.down) {
      res.writeHead(503, { 'content-type': 'text/plain' }).end('registry down (test)');
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
      fetch(origin + req.url, {
        method: req.method,
        headers: { 'content-type': req.headers['content-type'] ?? 'application/json' },
        body,
      }).then(
        async (r) => res.writeHead(r.status, { 'content-type': 'application/json' }).end(await r.text()),
        () => res.writeHead(502).end(),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}${new URL(target).pathname}`,
    get down() {
      return state.down;
    },
    set down(v: boolean) {
      state.down = v;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const configFor = (ctx: TestContext, env: Record<string, string>): EnricherConfig =>
  loadEnricherConfig({
    ...process.env,
    KAFKA_BROKERS: ctx.connection.brokers.join(','),
    SCHEMA_REGISTRY_URL: ctx.connection.registryUrl,
    TOPIC_PREFIX: ctx.connection.topicPrefix,
    ENRICHER_OPS_PORT: '0',
    ENRICHER_RETRY_INITIAL_MS: '100',
    ENRICHER_RETRY_MAX_MS: '500',
    ...env,
  });

describe('enricher: recovery without losing or duplicating', () => {
  let ctx: TestContext;
  let enricher: Enricher | undefined;

  beforeEach(async () => {
    ctx = await createTestContext({ name: 'enr-rec', partitions: 3 });
  });
  afterEach(async () => {
    await enricher?.close();
    enricher = undefined;
    await ctx.cleanup();
  });

  it('waits, dead-lettering nothing, while the schema registry is down, then catches up', async () => {
    const proxy = await startRegistryProxy(ctx.connection.registryUrl);
    try {
      const config = loadEnricherConfig({
        ...process.env,
        KAFKA_BROKERS: ctx.connection.brokers.join(','),
        SCHEMA_REGISTRY_URL: proxy.url,
        TOPIC_PREFIX: ctx.connection.topicPrefix,
        ENRICHER_INSTANCE_ID: 'registry-test',
        ENRICHER_OPS_PORT: '0',
        ENRICHER_RETRY_INITIAL_MS: '100',
        ENRICHER_RETRY_MAX_MS: '500',
      });
      enricher = await startEnricher(config, ctx.logger);
      proxy.down = true;

      // The enricher has never seen the bronze schema id: it must ask the registry, which is down.
      const encoder = await bronzeEncoder(
        createRegistryClient(ctx.connection.registryUrl),
        ctx.topics.bronze,
      );
      const changes = bookingChanges(500, { seed: testSeed('enricher, registry down'), idPrefix: 'reg' });
      await produceAll(
        ctx.kafka,
        ctx.topics.bronze,
        changes.map((c) => bronzeMessage(encoder, c)),
      );
      const running = enricher;
      await waitFor(() => running.stats().batchRetries >= 3, {
        timeoutMs: 30_000,
        what: 'retries while down',
      });
      expect(running.stats()).toMatchObject({ recordsIn: 0, deadLettered: 0, consumerCrashes: 0 });
      expect(await committedSum(ctx, config.groupId, ctx.topics.bronze)).toBe(0);

      proxy.down = false;
      await waitForGroupCaughtUp(ctx, config.groupId, ctx.topics.bronze, 60_000);
      const silver = await decodeSilver(ctx, await readToEnd(ctx, ctx.topics.silver));
      expect(silver.map((s) => s.event_id).sort()).toEqual(changes.map((c) => c.event_id).sort());
      expect(await readToEnd(ctx, ctx.topics.deadLetter)).toHaveLength(0);
      expect(running.stats()).toMatchObject({ recordsIn: 500, deadLettered: 0, consumerCrashes: 0 });
    } finally {
      await enricher?.close();
      enricher = undefined;
      await proxy.close();
    }
  });

  it('recovers when another producer fences its transactional id (a zombie), exactly once', async () => {
    const config = configFor(ctx, { ENRICHER_INSTANCE_ID: 'fence-test', ENRICHER_CHUNK_RECORDS: '200' });
    const encoder = await bronzeEncoder(createRegistryClient(ctx.connection.registryUrl), ctx.topics.bronze);
    const changes = bookingChanges(6000, {
      seed: testSeed('enricher, fenced'),
      idPrefix: 'fence',
      mix: CHURN_MIX,
    });
    const messages = changes.map((c) => bronzeMessage(encoder, c));
    enricher = await startEnricher(config, ctx.logger);
    const running = enricher;

    const producer = ctx.track(ctx.kafka.producer({ idempotent: true, maxInFlightRequests: 1 }));
    await producer.connect();
    for (let round = 0; round < 3; round++) {
      await producer.send({
        topic: ctx.topics.bronze,
        acks: -1,
        messages: messages.slice(round * 2000, round * 2000 + 1000),
      });
      await sleep(50 + round * 100);
      // A second producer with the enricher's transactional id bumps the epoch, which aborts the
      // enricher's open transaction and fences its producer.
      const zombie = ctx.kafka.producer({
        transactionalId: config.transactionalId,
        idempotent: true,
        maxInFlightRequests: 1,
      });
      await zombie.connect();
      const t = await zombie.transaction();
      await t.abort();
      await zombie.disconnect();
      await producer.send({
        topic: ctx.topics.bronze,
        acks: -1,
        messages: messages.slice(round * 2000 + 1000, (round + 1) * 2000),
      });
    }
    await waitForGroupCaughtUp(ctx, config.groupId, ctx.topics.bronze, 60_000);
    const silver = await decodeSilver(ctx, await readToEnd(ctx, ctx.topics.silver));
    expect(silver).toHaveLength(6000);
    expect(new Set(silver.map((s) => s.event_id)).size).toBe(6000);
    expect(outOfOrderBookings(silver)).toEqual([]);
    expect(running.stats().consumerCrashes).toBe(0);
    await waitFor(() => running.health().ok, { timeoutMs: 10_000, what: 'healthy again' });
  });
});
