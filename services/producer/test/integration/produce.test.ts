import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  CdcError,
  createDecoder,
  createRegistryClient,
  loadSchema,
  waitFor,
  type BookingChange,
} from '@cdc/core';
import { createTestContext, testSeed, uniqueGroupId, type TestContext } from '@cdc/testing';
import { createGenerator } from '@cdc/bookings';
import { parseProduceArgs, runProducer } from '../../src';
import { SEED_EVENTS } from '../fixtures/seed-events';

/** The generator's --seed of every run here. */
const SEED = String(testSeed('producer on the real broker'));

interface Read {
  partition: number;
  offset: number;
  key: string;
  change: BookingChange;
}

/** Reads `topic` from the beginning until `n` records arrived; decodes them all. */
async function readBack(ctx: TestContext, topic: string, n: number): Promise<Read[]> {
  const decoder = createDecoder<BookingChange>(
    createRegistryClient(ctx.connection.registryUrl),
    loadSchema('BookingChange').type,
  );
  const raw: { partition: number; offset: number; key: string; value: Buffer }[] = [];
  const consumer = ctx.kafka.consumer({ groupId: uniqueGroupId('producer-test') });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          raw.push({
            partition: batch.partition,
            offset: Number(m.offset),
            key: String(m.key),
            value: m.value!,
          });
        }
      },
    });
    await waitFor(() => raw.length >= n, { timeoutMs: 60_000, what: `${n} records on ${topic}` });
  } finally {
    await consumer.disconnect();
  }
  return Promise.all(raw.map(async (r) => ({ ...r, change: await decoder.decode(r.value) })));
}

async function recordsOn(ctx: TestContext, topic: string): Promise<number> {
  const offsets = await ctx.admin.fetchTopicOffsets(topic);
  return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
}

const keyOf = (c: BookingChange) => (c.after ?? c.before)!.booking_id;

describe('producer on the real broker', () => {
  let ctx: TestContext;
  beforeEach(async () => {
    ctx = await createTestContext({ name: 'producer', partitions: 3 });
  });
  afterEach(() => ctx.cleanup());

  it('produces N generated events that read back decoded, identical, in per-booking order', async () => {
    const N = 6000;
    const T = Date.UTC(2025, 8, 10, 12);
    const config = parseProduceArgs({ count: String(N), seed: SEED, producers: '3', batchSize: '500' }, T);
    let t = T;
    const summary = await runProducer(config, {
      connection: ctx.connection,
      logger: ctx.logger,
      clock: () => (t += 3),
      progress: 'none',
    });
    expect(summary).toMatchObject({ status: 'completed', acknowledgedTotal: N, failed: 0, notSent: 0 });
    expect(Object.values(summary.acknowledged).reduce((a, b) => a + b, 0)).toBe(N);

    // The same settings and clock regenerate the same events.
    if (config.source.kind !== 'generator' || summary.source.kind !== 'generator')
      throw new Error('generator');
    const gen = createGenerator({
      ...config.source.generator,
      runId: summary.source.runId,
      firstSeq: 1,
      firstBookingNumber: 1,
    });
    t = T;
    const expected = new Map<string, BookingChange>();
    for (let i = 0; i < N; i++) {
      const c = gen.next((t += 3)).change;
      expected.set(c.event_id, c);
    }

    const read = await readBack(ctx, ctx.topics.bronze, N);
    expect(read).toHaveLength(N);
    expect(await recordsOn(ctx, ctx.topics.bronze)).toBe(N);
    const mismatches = read.filter(
      (r) => JSON.stringify(r.change) !== JSON.stringify(expected.get(r.change.event_id)),
    );
    expect(mismatches.slice(0, 3)).toEqual([]);
    expect(new Set(read.map((r) => r.change.event_id)).size).toBe(N);
    expect(read.every((r) => r.key === keyOf(r.change))).toBe(true);

    // Per booking: one partition, and its changes in the order they were made.
    read.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
    const last = new Map<string, { partition: number; seq: number; version: number }>();
    const disorder: string[] = [];
    for (const r of read) {
      const key = r.key;
      const version = r.change.after?.version ?? r.change.before!.version + 1;
      const prev = last.get(key);
      if (
        prev &&
        (prev.partition !== r.partition || prev.seq >= r.change.source.seq || version !== prev.version + 1)
      ) {
        disorder.push(`${key} at ${r.partition}/${r.offset}`);
      }
      last.set(key, { partition: r.partition, seq: r.change.source.seq, version });
    }
    expect(disorder.slice(0, 5)).toEqual([]);
    expect(new Set(read.map((r) => r.partition)).size).toBe(3);
  });

  it("produces the 'seed' scenario: exactly the contract's worked example", async () => {
    const summary = await runProducer(parseProduceArgs({ scenario: 'seed' }), {
      connection: ctx.connection,
      logger: ctx.logger,
      progress: 'none',
    });
    expect(summary).toMatchObject({
      status: 'completed',
      acknowledgedTotal: 7,
      acknowledged: { create: 5, cancel: 2, update: 0, delete: 0 },
      source: { kind: 'scenario', name: 'seed' },
    });
    const read = await readBack(ctx, ctx.topics.bronze, 7);
    const bySeq = [...read].sort((a, b) => a.change.source.seq - b.change.source.seq);
    expect(bySeq.map((r) => r.change)).toEqual(SEED_EVENTS);
    expect(bySeq.map((r) => r.key)).toEqual(['B001', 'B002', 'B003', 'B004', 'B005', 'B001', 'B003']);
    expect(await recordsOn(ctx, ctx.topics.bronze)).toBe(7);
  });

  it('runs until stopped, serving /healthz and /metrics, and reports exactly what was acknowledged', async () => {
    const stop = new AbortController();
    let port: number | null = null;
    const running = runProducer(parseProduceArgs({ rate: '400', opsPort: '0', seed: SEED }), {
      connection: ctx.connection,
      logger: ctx.logger,
      signal: stop.signal,
      progress: 'none',
      onStarted: (info) => (port = info.opsPort),
    });
    const endedEarly = running.then((s) => {
      throw new Error(`the run ended early: ${JSON.stringify(s)}`);
    });
    const health = await Promise.race([
      endedEarly,
      waitFor(
        async () => {
          if (port === null) return false;
          const h = (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as {
            ok: boolean;
            acked: number;
          };
          return h.acked >= 200 && h;
        },
        { timeoutMs: 30_000, what: 'events acknowledged' },
      ),
    ]);
    expect(health.ok).toBe(true);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/cdc_producer_events_acked_total\{op="create",service="producer"\} [1-9]/);
    expect(metrics).toContain('cdc_producer_events_sent_total{op="cancel"');
    expect(metrics).toContain('cdc_producer_send_errors_total');

    stop.abort();
    endedEarly.catch(() => undefined);
    const summary = await running;
    expect(summary.status).toBe('stopped');
    expect(summary.failed + summary.unanswered).toBe(0);
    expect(summary.acknowledgedTotal).toBeGreaterThanOrEqual(200);
    expect(await recordsOn(ctx, ctx.topics.bronze)).toBe(summary.acknowledgedTotal);
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });

  it('continues ids and seqs after what the topic already holds', async () => {
    const first = await runProducer(parseProduceArgs({ count: '300', seed: SEED }), {
      connection: ctx.connection,
      logger: ctx.logger,
      progress: 'none',
    });
    const second = await runProducer(parseProduceArgs({ count: '300', seed: SEED }), {
      connection: ctx.connection,
      logger: ctx.logger,
      progress: 'none',
    });
    expect(first.source).toMatchObject({ firstSeq: 1 });
    expect(second.source).toMatchObject({ firstSeq: 301 });
    const read = await readBack(ctx, ctx.topics.bronze, 600);
    const creates = read.filter((r) => r.change.op === 'c').map((r) => r.change.after!.booking_id);
    expect(new Set(creates).size).toBe(creates.length);
    expect(new Set(read.map((r) => r.change.event_id)).size).toBe(600);
  });

  it('stops at the first failed send and reports only what was acknowledged', async () => {
    // The broker refuses a record over its size limit (1 MB): a non-retriable send failure.
    const dir = mkdtempSync(path.join(tmpdir(), 'scenario-'));
    const file = path.join(dir, 'too-large.json');
    const create = (id: string, customer: string, at?: string) => ({
      op: 'create',
      ...(at ? { at } : {}),
      booking: {
        booking_id: id,
        customer_id: customer,
        movie_id: 'M001',
        booking_date: '2025-09-03T10:00:00Z',
        ticket_count: 1,
        ticket_price: 1000,
      },
    });
    const steps = [
      create('T1', 'C1', '2025-09-03T10:00:01Z'),
      create('T2', 'x'.repeat(1_500_000)),
      create('T3', 'C3'),
    ];
    writeFileSync(file, JSON.stringify({ description: 'a record too large for the broker', steps }));
    const summary = await runProducer(parseProduceArgs({ scenario: file, batchSize: '1', producers: '1' }), {
      connection: ctx.connection,
      logger: ctx.logger,
      progress: 'none',
    });
    expect(summary).toMatchObject({
      status: 'failed',
      acknowledgedTotal: 1,
      failed: 1,
      notSent: 1,
      unanswered: 0,
    });
    expect(summary.error).toMatch(/^send failed: .*larger than the max message size/);
    expect(await recordsOn(ctx, ctx.topics.bronze)).toBe(1);
  });

  it('fails clearly when the broker or the registry cannot be reached', async () => {
    const config = parseProduceArgs({ count: '10', maxOutage: '3s' });
    const noBroker = runProducer(config, {
      connection: { ...ctx.connection, brokers: ['127.0.0.1:1'] },
      logger: ctx.logger,
      progress: 'none',
    });
    await expect(noBroker).rejects.toBeInstanceOf(CdcError);
    await expect(noBroker).rejects.toMatchObject({ code: 'UNAVAILABLE', dependency: 'broker' });
    await expect(noBroker).rejects.toThrow(/127\.0\.0\.1:1/);

    const noRegistry = runProducer(config, {
      connection: { ...ctx.connection, registryUrl: 'http://127.0.0.1:1/apis/ccompat/v7' },
      logger: ctx.logger,
      progress: 'none',
    });
    await expect(noRegistry).rejects.toMatchObject({ code: 'UNAVAILABLE', name: 'RegistryError' });
  });
});
