import path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { sleep, waitFor } from '@cdc/core';
import {
  createTestContext,
  endOffsets,
  startCdc,
  startFaultStack,
  type CdcProcess,
  type FaultStack,
  type TestContext,
} from '@cdc/testing';
import {
  appliedOffsets,
  committedSum,
  duplicates,
  eventIds,
  healthz,
  opsPortOf,
  report,
  sum,
  timeUntilProgress,
} from '../support/faults';

/**
 * Availability under faults (issue 13), on a private broker and registry (never the shared
 * stack): every stage waits out an outage and moves again by itself, static membership brings a
 * SIGKILLed stage back at once, and nothing is lost or duplicated. The times are measured and
 * printed (BENCHMARKS.md); the assertions are only against the session timeouts.
 */
const ENRICHER_SESSION_MS = 30_000; // the enricher's default session timeout
const AGGREGATOR_SESSION_MS = 10_000; // the aggregator's default

describe('faults: outages and SIGKILLs', () => {
  let stack: FaultStack;
  let ctx: TestContext;
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'cdc-outage-'));
  const dbPath = path.join(tmp, 'aggregator.db');
  const procs: CdcProcess[] = [];

  beforeAll(async () => {
    stack = await startFaultStack('outage');
    ctx = await createTestContext({ name: 'outage', partitions: 3, env: stack.env });
  }, 240_000);
  afterAll(async () => {
    for (const p of procs) await p.close();
    stack?.registry.resume();
    stack?.kafka.resume();
    await ctx?.cleanup().catch(() => undefined);
    await stack?.cleanup();
    rmSync(tmp, { recursive: true, force: true });
  });

  const cdc = (args: string[], env: Record<string, string> = {}): CdcProcess => {
    const p = startCdc(args, { connection: ctx.connection, env: { LOG_LEVEL: 'info', ...env } });
    procs.push(p);
    return p;
  };
  const silverEnd = async () => sum(await endOffsets(ctx, ctx.topics.silver));
  const bronzeEnd = async () => sum(await endOffsets(ctx, ctx.topics.bronze));
  const applied = () => appliedOffsets(dbPath, ctx.topics.silver);
  /** Bronze records the enricher has committed (its group's offsets: records, no markers). */
  const enriched = () =>
    committedSum(ctx, `${ctx.connection.topicPrefix}cdc-enricher`, ctx.topics.bronze).catch(() => 0);
  const enricherCaughtUp = async (what: string) => {
    const end = await bronzeEnd();
    await waitFor(async () => (await enriched()) >= end, { timeoutMs: 60_000, what });
  };

  let enricher: CdcProcess;
  let aggregator: CdcProcess;

  test('registry stopped: cdc aggregate starts, waits (healthz says why) and applies once it is back', async () => {
    enricher = cdc(['enrich', '--ops-port', '0']);
    const seeded = cdc(['produce', '--count', '300', '--seed', '1', '--no-progress']);
    await seeded.expectExit(0);
    await enricherCaughtUp('the enricher to enrich 300');

    await stack.registry.stop();
    aggregator = cdc(['aggregate', '--db', dbPath, '--ops-port', '0']);
    const port = await opsPortOf(aggregator);
    await aggregator.waitForOutput('schema registry unreachable', { timeoutMs: 30_000 });
    const h = await aggregator.waitFor(
      async () => {
        const r = await healthz(port);
        return r.status === 503 && Array.isArray(r.body.outages) ? r : undefined;
      },
      { timeoutMs: 10_000, what: '/healthz 503 with the outage' },
    );
    expect((h.body.outages as { dependency: string }[])[0]!.dependency).toBe('registry');
    expect(applied()).toBe(0);

    await stack.registry.start();
    const resumedMs = await timeUntilProgress(applied, 'the aggregator to apply', 60_000, {
      from: 0,
      owner: aggregator,
    });
    report('aggregator started during a registry outage: applies after the registry answers', resumedMs);
    await aggregator.waitFor(() => applied() >= 300 || undefined, {
      timeoutMs: 30_000,
      what: 'all 300 applied',
    });
    await aggregator.waitForOutput('schema registry reachable again', { timeoutMs: 10_000 });
    expect((await healthz(port)).status).toBe(200);
  });

  test('broker stopped for 10 s under cdc produce --rate 500: every stage resumes, every acknowledged event once', async () => {
    const producer = cdc(['produce', '--rate', '500', '--seed', '2', '--ops-port', '0', '--no-progress']);
    const producerPort = await opsPortOf(producer);
    const acked = async () =>
      Number((await healthz(producerPort).catch(() => ({ body: { acked: 0 } }))).body.acked ?? 0);
    await waitFor(async () => (await acked()) > 1000, { timeoutMs: 30_000, what: 'the producer to run' });
    await waitFor(async () => applied() > 1000, { timeoutMs: 60_000, what: 'the aggregator to follow' });

    await stack.kafka.stop();
    await sleep(10_000); // the outage itself: the broker is down for 10 s
    await producer.waitForOutput('Kafka broker unreachable', { timeoutMs: 5000 });
    const ackedBefore = await acked();
    await stack.kafka.start(); // returns once the broker answers
    const [p, e, a] = await Promise.all([
      timeUntilProgress(acked, 'the producer to be acknowledged again', 60_000, {
        from: ackedBefore,
        owner: producer,
      }),
      timeUntilProgress(enriched, 'the enricher to commit again', 60_000, { owner: enricher }),
      timeUntilProgress(applied, 'the aggregator to apply again', 60_000, { owner: aggregator }),
    ]);
    report('broker restart → producer acknowledged again', p);
    report('broker restart → enricher commits again', e);
    report('broker restart → aggregator applies again', a);
    expect(Math.max(p, e, a)).toBeLessThan(ENRICHER_SESSION_MS);

    expect(await producer.stop('SIGINT')).toBe(0);
    const summary = /stopped: (\d+) events acknowledged/.exec(producer.stdout());
    expect(summary).not.toBeNull();
    expect(producer.stdout()).not.toMatch(/UNANSWERED|FAILED/);
    const ids = await eventIds(ctx, ctx.topics.bronze, 'bronze');
    expect(duplicates(ids)).toEqual([]);
    expect(ids.length).toBe(300 + Number(summary![1]));

    await enricherCaughtUp('the enricher to catch up');
    const silver = await eventIds(ctx, ctx.topics.silver, 'silver');
    expect(duplicates(silver)).toEqual([]);
    expect(new Set(silver)).toEqual(new Set(ids));
    const end = await silverEnd();
    await waitFor(() => applied() >= end, {
      timeoutMs: 60_000,
      what: 'the aggregator to reach the end of silver',
    });
  });

  test('enricher and aggregator SIGKILLed and restarted at once: their partitions move again within the session', async () => {
    const producer = cdc(['produce', '--rate', '200', '--seed', '3', '--ops-port', '0', '--no-progress']);
    await waitFor(async () => (await bronzeEnd()) > 0 && applied() > 0, { timeoutMs: 30_000, what: 'flow' });
    await timeUntilProgress(enriched, 'the enricher to commit', 30_000, { owner: enricher });

    enricher.signal('SIGKILL');
    await enricher.exited;
    const killedAt = Date.now();
    const before = await enriched();
    enricher = cdc(['enrich', '--ops-port', '0']);
    await waitFor(async () => (await enriched()) > before, {
      timeoutMs: ENRICHER_SESSION_MS,
      what: 'the enricher to commit after its restart',
    });
    report('enricher SIGKILL + restart → commits again', Date.now() - killedAt);

    await timeUntilProgress(applied, 'the aggregator to apply', 30_000, { owner: aggregator });
    aggregator.signal('SIGKILL');
    await aggregator.exited;
    const killedAggAt = Date.now();
    aggregator = cdc(['aggregate', '--db', dbPath, '--ops-port', '0']);
    const from = applied();
    await aggregator.waitFor(() => applied() > from, {
      timeoutMs: AGGREGATOR_SESSION_MS,
      what: 'the aggregator after its restart',
    });
    report('aggregator SIGKILL + restart → applies again', Date.now() - killedAggAt);

    expect(await producer.stop('SIGINT')).toBe(0);
    const bronze = await eventIds(ctx, ctx.topics.bronze, 'bronze');
    await enricherCaughtUp('the enricher to catch up');
    const silver = await eventIds(ctx, ctx.topics.silver, 'silver');
    expect(duplicates(silver)).toEqual([]);
    expect(new Set(silver)).toEqual(new Set(bronze));
    const end = await silverEnd();
    await waitFor(() => applied() >= end, {
      timeoutMs: 60_000,
      what: 'the aggregator to reach the end of silver',
    });
    expect(await enricher.stop()).toBe(0);
    expect(await aggregator.stop()).toBe(0);
  });
});
