import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { createDecoder, createRegistryClient, loadSchema, waitFor, type Alert } from '@cdc/core';
import {
  createTestContext,
  readToEnd,
  startCdc,
  testSeed,
  type CdcProcess,
  type TestContext,
} from '@cdc/testing';
import { Webhook } from 'standardwebhooks';
import { ID_HEADER, type WebhookBody } from '@cdc/alerts';

/**
 * The alerts service as users run it: the real `cdc produce`, `enrich`, `aggregate` and `alerts`
 * processes on the shared broker, the producer in accelerated event time (`--time-scale 20`: twenty
 * minutes of traffic in a minute), a local HTTP receiver for the webhook.
 */
// A Standard Webhooks secret; the receiver verifies with the stock `standardwebhooks` library.
const SECRET = `whsec_${Buffer.from('test-secret-0123456789-abcdefgh').toString('base64')}`;
const verifier = new Webhook(SECRET);
const verifies = (body: string, headers: Record<string, string | string[] | undefined>): boolean => {
  try {
    verifier.verify(body, headers as Record<string, string>);
    return true;
  } catch {
    return false;
  }
};
const TIME_SCALE = '20';

interface Post {
  key: string;
  body: WebhookBody;
  validSignature: boolean;
  answered: number;
}

/** A webhook receiver that answers 500 to the first `failFirst` attempts of every idempotency key. */
async function startReceiver(failFirst: number): Promise<{ url: string; posts: Post[]; server: Server }> {
  const posts: Post[] = [];
  const attempts = new Map<string, number>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const key = String(req.headers[ID_HEADER]);
      const n = (attempts.get(key) ?? 0) + 1;
      attempts.set(key, n);
      const answered = n <= failFirst ? 500 : 200;
      posts.push({
        key,
        body: JSON.parse(text) as WebhookBody,
        validSignature: verifies(text, req.headers),
        answered,
      });
      res.statusCode = answered;
      res.end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hook`, posts, server };
}

describe('cdc alerts end to end', () => {
  let ctx: TestContext;
  let dir: string;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const start = (args: string[], env: Record<string, string> = {}): CdcProcess =>
    ctx.track(startCdc(args, { connection: ctx.connection, env }));
  const alertsArgs = (): string[] => [
    'alerts',
    '--db',
    path.join(dir, 'alerts.db'),
    '--ops-port',
    '0',
    '--webhook',
    receiver.url,
    '--webhook-secret',
    SECRET,
  ];
  // Retries come fast in a test; the schedule is the dispatcher's own.
  const alertsEnv = {
    ALERTS_RETRY_MIN_MS: '100',
    ALERTS_RETRY_MAX_MS: '400',
    ALERTS_PROBE_INTERVAL_MS: '500',
  };

  beforeEach(async () => {
    ctx = await createTestContext({ name: 'alerts' });
    dir = mkdtempSync(path.join(os.tmpdir(), 'cdc-alerts-'));
  });
  afterEach(async () => {
    await ctx.cleanup();
    receiver.server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('cancellation-spike fires for M012 and resolves: one POST per transition, signed, through 500s and a restart', async () => {
    receiver = await startReceiver(2);
    start(['enrich', '--ops-port', '0']);
    start(['aggregate', '--db', path.join(dir, 'aggregator.db'), '--ops-port', '0']);
    let alerts = start(alertsArgs(), alertsEnv);
    const seed = testSeed('alerts cancellation-spike');
    const producer = start([
      'produce',
      '--scenario',
      'cancellation-spike',
      '--time-scale',
      TIME_SCALE,
      '--seed',
      String(seed),
      '--no-progress',
      '--ops-port',
      '0',
    ]);

    const accepted = (status: 'firing' | 'resolved') =>
      receiver.posts.find(
        (p) =>
          p.answered === 200 &&
          p.body.status === status &&
          p.body.alert.rule === 'cancellation_spike' &&
          p.body.alert.subject === 'M012',
      );
    const fired = await alerts.waitFor(() => accepted('firing'), {
      timeoutMs: 120_000,
      intervalMs: 100,
      what: 'the firing cancellation_spike of M012 accepted by the receiver',
    });

    // Restart while it fires (not resolved yet): the state file says it fires and was notified.
    expect(accepted('resolved')).toBeUndefined();
    expect(await alerts.stop()).toBe(0);
    alerts = start(alertsArgs(), alertsEnv);

    const resolved = await alerts.waitFor(() => accepted('resolved'), {
      timeoutMs: 120_000,
      intervalMs: 100,
      what: 'the resolved cancellation_spike of M012 accepted by the receiver',
    });
    await producer.expectExit(0, { timeoutMs: 120_000 });
    expect(resolved.body.alert.alert_id).toBe(fired.body.alert.alert_id);

    // Exactly one accepted POST per transition; every attempt signed; 500s were retried.
    const id = fired.body.alert.alert_id;
    const forAlert = receiver.posts.filter((p) => p.body.alert.alert_id === id);
    expect(forAlert.every((p) => p.validSignature)).toBe(true);
    expect(forAlert.map((p) => [p.key, p.answered])).toEqual([
      [`${id}:firing`, 500],
      [`${id}:firing`, 500],
      [`${id}:firing`, 200],
      [`${id}:resolved`, 500],
      [`${id}:resolved`, 500],
      [`${id}:resolved`, 200],
    ]);
    expect(fired.body.alert).toMatchObject({
      rule_type: 'cancellation_spike',
      movie_id: 'M012',
      status: 'FIRING',
      severity: 'warning',
    });
    expect(resolved.body.alert).toMatchObject({ status: 'RESOLVED', sequence: 2 });
    expect(resolved.body.alert.resolved_at).toBeGreaterThan(fired.body.alert.fired_at);
    // Nothing else: the normal traffic under the scenario fires no alert with the default rules.
    // (pipeline_stale, which judges how far the machine lags, is left out.)
    expect(
      new Set(
        receiver.posts
          .filter((p) => p.body.alert.rule !== 'pipeline_stale')
          .map((p) => p.body.alert.alert_id),
      ),
    ).toEqual(new Set([id]));

    // The alerts topic (compacted, keyed by alert id) holds both transitions.
    const decoder = createDecoder<Alert>(
      createRegistryClient(ctx.connection.registryUrl),
      loadSchema('Alert').type,
    );
    const records = await waitFor(
      async () => {
        const ms = await readToEnd(ctx, ctx.topics.alerts);
        return ms.length >= 2 ? ms : undefined;
      },
      { timeoutMs: 30_000, what: 'two records on the alerts topic' },
    );
    const decoded = await Promise.all(
      records.map(async (m) => [m.key!.toString(), await decoder.decode(m.value)] as const),
    );
    expect(decoded.map(([k, a]) => [k, a.status])).toEqual([
      [id, 'FIRING'],
      [id, 'RESOLVED'],
    ]);
    await alerts.stop();
  });

  it('a state left by another pipeline (another TOPIC_PREFIX, same alerts.db) does not silence the rules', async () => {
    receiver = await startReceiver(0);
    const firing = (): Post[] =>
      receiver.posts.filter(
        (p) =>
          p.body.status === 'firing' &&
          p.body.alert.rule === 'cancellation_spike' &&
          p.body.alert.subject === 'M012',
      );
    // One pipeline fires and stops; the next (other topics, the same database) plays the same
    // accelerated scenario: its event times are far behind the state the first one left.
    const runPipeline = async (c: TestContext, firedBefore: number): Promise<CdcProcess> => {
      const run = (args: string[], env: Record<string, string> = {}): CdcProcess =>
        c.track(startCdc(args, { connection: c.connection, env }));
      run(['enrich', '--ops-port', '0']);
      run(['aggregate', '--db', path.join(dir, `${c.connection.topicPrefix}db`), '--ops-port', '0']);
      const alerts = run(alertsArgs(), alertsEnv);
      const seed = testSeed(`alerts another pipeline ${c.connection.topicPrefix}`);
      run([
        'produce',
        '--scenario',
        'cancellation-spike',
        '--time-scale',
        TIME_SCALE,
        '--seed',
        String(seed),
        '--no-progress',
        '--ops-port',
        '0',
      ]);
      await alerts.waitFor(() => firing().length > firedBefore, {
        timeoutMs: 120_000,
        intervalMs: 100,
        what: `cancellation_spike of M012 firing on ${c.connection.topicPrefix}`,
      });
      return alerts;
    };
    const first = await runPipeline(ctx, 0);
    expect(await first.stop()).toBe(0);
    const other = await createTestContext({ name: 'alerts-other' });
    try {
      const second = await runPipeline(other, firing().length);
      expect(second.stdout() + second.stderr()).toMatch(/alert state belongs to another pipeline/);
      expect(await second.stop()).toBe(0);
    } finally {
      await other.cleanup();
    }
  });

  it('booking-surge and dirty-burst (played together) fire booking_surge for M020 and data_quality_low for M030, and resolve', async () => {
    receiver = await startReceiver(0);
    start(['enrich', '--ops-port', '0']);
    start(['aggregate', '--db', path.join(dir, 'aggregator.db'), '--ops-port', '0']);
    const alerts = start(alertsArgs(), alertsEnv);
    const produce = (scenario: string) =>
      start([
        'produce',
        '--scenario',
        scenario,
        '--time-scale',
        TIME_SCALE,
        '--rate',
        '25',
        '--seed',
        String(testSeed(`alerts ${scenario}`)),
        '--no-progress',
        '--ops-port',
        '0',
      ]);
    // Two producers at half the default rate: together the usual background (1,000 events/s of
    // wall clock at this time scale), so the pipeline keeps up on a small shared machine.
    const producers = [produce('booking-surge'), produce('dirty-burst')];
    // pipeline_stale judges the machine (records waiting), not the bookings: left out here.
    const transitions = () =>
      receiver.posts
        .filter((p) => p.body.alert.rule !== 'pipeline_stale')
        .map((p) => `${p.body.alert.rule}/${p.body.alert.subject}:${p.body.status}`);
    const expected = [
      'booking_surge/M020:firing',
      'booking_surge/M020:resolved',
      'data_quality_low/M030:firing',
      'data_quality_low/M030:resolved',
    ];
    await alerts.waitFor(() => expected.every((t) => transitions().includes(t)), {
      timeoutMs: 150_000,
      intervalMs: 200,
      what: `${expected.join(', ')} (so far: ${transitions().join(', ') || 'none'})`,
    });
    for (const p of producers) await p.expectExit(0, { timeoutMs: 120_000 });
    expect([...transitions()].sort()).toEqual(expected);
    expect(receiver.posts.every((p) => p.validSignature)).toBe(true);
    const quality = receiver.posts.find((p) => p.body.alert.rule === 'data_quality_low')!.body.alert;
    expect(quality.value).toBeLessThan(80);
    await alerts.stop();
  });

  it('ten minutes of default traffic (seeded, accelerated) fire no alert with the default rules', async () => {
    receiver = await startReceiver(0);
    start(['enrich', '--ops-port', '0']);
    start(['aggregate', '--db', path.join(dir, 'aggregator.db'), '--ops-port', '0']);
    const alerts = start(alertsArgs(), alertsEnv);
    const seed = testSeed('alerts false positives');
    await start([
      'produce',
      '--duration',
      '10m',
      '--time-scale',
      TIME_SCALE,
      '--seed',
      String(seed),
      '--no-progress',
      '--ops-port',
      '0',
    ]).expectExit(0, { timeoutMs: 120_000 });

    // Everything produced has reached gold and the alerts service's group has read all of gold.
    const lag = async (group: string, topic: string): Promise<number> => {
      const ends = await ctx.admin.fetchTopicOffsets(topic);
      const [committed] = await ctx.admin.fetchOffsets({ groupId: group, topics: [topic] });
      const at = new Map(committed!.partitions.map((p) => [p.partition, Number(p.offset)]));
      return ends.reduce((n, p) => n + Number(p.high) - Math.max(0, at.get(p.partition) ?? 0), 0);
    };
    const prefix = ctx.connection.topicPrefix;
    await alerts.waitFor(
      async () =>
        (await lag(`${prefix}cdc-enricher`, ctx.topics.bronze)) === 0 &&
        (await lag(`${prefix}cdc-aggregator`, ctx.topics.silver)) <= 3 &&
        (await lag(`${prefix}cdc-alerts`, ctx.topics.gold)) === 0,
      { timeoutMs: 120_000, intervalMs: 500, what: 'the pipeline and the alerts service caught up' },
    );
    expect(await alerts.stop()).toBe(0);

    const db = new Database(path.join(dir, 'alerts.db'), { readonly: true });
    const transitions = db.prepare('SELECT record FROM transitions').pluck().all() as string[];
    const state = JSON.parse(db.prepare('SELECT state FROM engine_state').pluck().get() as string) as {
      alerts: unknown[];
      series: Record<string, unknown>;
    };
    db.close();
    expect(transitions).toEqual([]);
    expect(state.alerts).toEqual([]);
    // The rules did judge: every movie has its series.
    expect(Object.keys(state.series).length).toBeGreaterThan(50);
    expect(receiver.posts).toEqual([]);
  });
});
