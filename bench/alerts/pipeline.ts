import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Booking, BookingChange } from '@cdc/core';
import { createRegistryClient, sleep, waitFor } from '@cdc/core';
import { bronzeEncoder, bronzeMessage, startCdc, type CdcProcess } from '@cdc/testing';
import { openBenchRun } from '../support/pipeline';
import { cpuSecondsOf, endOffsets, groupLag, quantiles, round } from '../e2e/common';
import { positiveSetting } from '../support/gold';

/**
 * The issue's figure: from the first event of a spike at the source to the webhook POST, through
 * the whole pipeline as users run it — `cdc enrich`, `cdc aggregate` and `cdc alerts` (a rules
 * file of its own, below) as child processes on topics of their own, a paced `cdc produce --rate
 * BENCH_RATE` (default 1,000 events/s) as background traffic, and a local HTTP receiver.
 *
 * Each spike is a movie of its own (M9001…, outside the producer's M001…M050), so each fires
 * once: BENCH_BURST (40) bookings are created for every spike movie before the spikes start (so
 * its baseline has warmed up, with no cancellations), then, one spike every BENCH_SPIKE_GAP_MS
 * (1,000), all the movie's bookings are cancelled in one send to bronze. t0 = the moment just
 * before that send (also the events' `ts_ms`); latency = the firing POST's arrival − t0. Where the
 * time goes: the first gold record of the movie after t0 (its timestamp is the aggregator's send;
 * the bench reads keys only) splits it into source → gold and gold → POST.
 *
 * Then the CPU of `cdc alerts` (and of the other services, from /proc) with `cdc produce --rate
 * BENCH_CPU_RATE` (5,000) through the pipeline. One JSON line. Load average at each phase.
 *
 * Settings: BENCH_RATE, BENCH_SPIKES (60), BENCH_SPIKE_GAP_MS, BENCH_BURST, BENCH_CPU_RATE,
 * BENCH_CPU_SECONDS (20), BENCH_PARTITIONS (3); KAFKA_BROKERS, SCHEMA_REGISTRY_URL.
 */
const RATE = positiveSetting('BENCH_RATE', 1000);
const SPIKES = positiveSetting('BENCH_SPIKES', 60);
const GAP_MS = positiveSetting('BENCH_SPIKE_GAP_MS', 1000);
const BURST = positiveSetting('BENCH_BURST', 40);
const CPU_RATE = positiveSetting('BENCH_CPU_RATE', 5000);
const CPU_SECONDS = positiveSetting('BENCH_CPU_SECONDS', 20);
const PARTITIONS = positiveSetting('BENCH_PARTITIONS', 3);

/** The rule the spikes cross: BURST (40) cancellations against a baseline of none. */
const MIN_COUNT = 20;
const RULES = `rules:
  - type: cancellation_spike
    subjects: movies
    window: 30s
    min_count: ${MIN_COUNT}
    ratio: 3
    z_score: 4
    clear_ratio: 1.5
    baseline: { kind: trailing, half_life: 10m, warm_up: 10s }
    for: 0s
    keep_firing_for: 1m
    severity: warning
`;
const RULE_TEXT = `cancellation_spike, window 30s, min_count ${MIN_COUNT}, ratio 3, z_score 4, trailing baseline (half life 10m, warm-up 10s), for 0s`;

const say = (msg: string): void => void process.stderr.write(`[bench alerts/pipeline] ${msg}\n`);
const load1 = (): number => round(os.loadavg()[0]!, 2);
const spikeMovie = (k: number): string => `M9${String(k + 1).padStart(3, '0')}`;

/** A spike movie's bookings: created (BOOKED) in the set-up, cancelled all at once in its spike. */
function booking(movie: string, i: number, status: string, version: number, tsMs: number): Booking {
  return {
    booking_id: `B-${movie}-${i}`,
    customer_id: `C-bench-${i}`,
    movie_id: movie,
    booking_date: tsMs - 86_400_000,
    status,
    ticket_count: 2,
    ticket_price: 1250,
    created_at: tsMs,
    updated_at: tsMs,
    version,
  };
}

async function main(): Promise<void> {
  if (BURST < MIN_COUNT) throw new Error(`BENCH_BURST must be at least the rule's min_count (${MIN_COUNT})`);
  const run = await openBenchRun('alerts-pipe', 'warn');
  const { prefix, connection, topics, kafka, admin, tmp } = run;
  const rulesFile = path.join(tmp, 'alerts.yaml');
  writeFileSync(rulesFile, RULES);
  const cdc = (args: string[], logLevel = 'warn'): CdcProcess =>
    startCdc(args, { connection, env: { LOG_LEVEL: logLevel } });
  const procs: CdcProcess[] = [];
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  const goldKeys = kafka.consumer({ groupId: `${prefix}bench-gold-keys`, maxWaitTimeInMs: 50 });

  // The receiver: the first firing POST per subject, and every other POST counted.
  const firing = new Map<string, number>();
  const posts = { firing: 0, resolved: 0, duplicates: 0 };
  /** Firing POSTs of the background's own movies (M001…): arrival times. */
  const otherFiring: number[] = [];
  const seenKeys = new Set<string>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = Date.now();
      const body = JSON.parse(Buffer.concat(chunks).toString()) as {
        idempotency_key: string;
        status: 'firing' | 'resolved';
        alert: { subject: string };
      };
      if (seenKeys.has(body.idempotency_key)) posts.duplicates += 1;
      seenKeys.add(body.idempotency_key);
      posts[body.status] += 1;
      const subject = body.alert.subject;
      if (!subject.startsWith('M9') && body.status === 'firing') otherFiring.push(at);
      if (body.status === 'firing' && !firing.has(subject)) firing.set(subject, at);
      res.end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const hook = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;

  // The first gold record of each spike movie after its spike: [its timestamp (the aggregator's send), its arrival here].
  const spikeAt = new Map<string, number>();
  const gold = new Map<string, [number, number]>();

  try {
    say(`topics ${prefix}* (${PARTITIONS} partitions)`);
    await cdc(['topics', 'create', '--partitions', String(PARTITIONS)]).expectExit(0, { timeoutMs: 60_000 });
    const enricher = cdc(['enrich', '--ops-port', '0']);
    const aggregator = cdc(['aggregate', '--db', path.join(tmp, 'aggregator.db'), '--ops-port', '0']);
    const alerts = cdc(
      [
        'alerts',
        '--rules',
        rulesFile,
        '--db',
        path.join(tmp, 'alerts.db'),
        '--ops-port',
        '0',
        '--webhook',
        hook,
      ],
      'info',
    );
    procs.push(enricher, aggregator, alerts);
    await alerts.waitForOutput('alerts running', { timeoutMs: 60_000 });

    const encoder = await bronzeEncoder(createRegistryClient(connection.registryUrl), topics.bronze);
    await producer.connect();
    await goldKeys.connect();
    await goldKeys.subscribe({ topic: topics.gold, fromBeginning: false });
    await goldKeys.run({
      eachMessage: async ({ message }) => {
        const key = message.key?.toString() ?? '';
        const t0 = spikeAt.get(key);
        if (t0 !== undefined && !gold.has(key) && Number(message.timestamp) >= t0)
          gold.set(key, [Number(message.timestamp), Date.now()]);
        return Promise.resolve();
      },
    });

    say(`background: cdc produce --rate ${RATE}`);
    const background = cdc([
      'produce',
      '--rate',
      String(RATE),
      '--seed',
      '42',
      '--no-progress',
      '--ops-port',
      '0',
    ]);
    procs.push(background);
    const groups = { enricher: `${prefix}cdc-enricher`, aggregator: `${prefix}cdc-aggregator` };
    await waitFor(
      async () =>
        (await groupLag(admin, groups.aggregator, topics.silver)) < RATE &&
        (await endOffsets(admin, topics.gold)) > 0,
      {
        timeoutMs: 120_000,
        intervalMs: 500,
        what: 'the pipeline to carry the background traffic to gold',
      },
    );

    // Set-up: BURST bookings per spike movie, then one more per movie a little later (its second
    // snapshot starts the movie's series); then the baselines absorb 30 s of windows + warm-up.
    let seq = 1;
    const change = (op: 'c' | 'u', before: Booking | null, after: Booking, tsMs: number): BookingChange => ({
      event_id: `bench-${seq}`,
      op,
      before,
      after,
      ts_ms: tsMs,
      source: { name: 'bench-spikes', seq: seq++ },
    });
    const created = new Map<string, Booking[]>();
    for (const round of [0, 1]) {
      const ts = Date.now();
      const messages = [];
      for (let k = 0; k < SPIKES; k += 1) {
        const movie = spikeMovie(k);
        const list = created.get(movie) ?? [];
        const n = round === 0 ? BURST : 1;
        for (let i = 0; i < n; i += 1) {
          const b = booking(movie, list.length, 'BOOKED', 1, ts);
          list.push(b);
          messages.push(bronzeMessage(encoder, change('c', null, b, ts)));
        }
        created.set(movie, list);
      }
      await producer.send({ topic: topics.bronze, acks: -1, messages });
      await sleep(2000);
    }
    say(`${SPIKES} spike movies created; baselines warming up for 50 s on ${RATE} events/s`);
    await sleep(50_000);

    const cpuIds = () => ({
      alerts: alerts.child.pid!,
      enricher: enricher.child.pid!,
      aggregator: aggregator.child.pid!,
    });
    const cpu = (ids: Record<string, number>) =>
      Object.fromEntries(Object.entries(ids).map(([k, pid]) => [k, cpuSecondsOf(pid) ?? NaN]));
    const coresBetween = (a: Record<string, number>, b: Record<string, number>, seconds: number) =>
      Object.fromEntries(Object.keys(a).map((k) => [k, round(((b[k]! - a[k]!) / seconds) * 100, 1)]));

    say(`${SPIKES} spikes of ${BURST} cancellations, one every ${GAP_MS} ms`);
    const spikeLoad0 = load1();
    const spikeCpu0 = cpu(cpuIds());
    const spikeStart = Date.now();
    // The pipeline's backlog (records waiting for the enricher and the aggregator, what
    // pipeline_stale judges), sampled every second while the spikes run.
    const lags: number[] = [];
    let sampling = true;
    const lagSampler = (async () => {
      while (sampling) {
        const [e, a] = await Promise.all([
          groupLag(admin, groups.enricher, topics.bronze),
          groupLag(admin, groups.aggregator, topics.silver),
        ]);
        lags.push(e + a);
        await sleep(1000);
      }
    })();
    const bronze0 = await endOffsets(admin, topics.bronze);
    for (let k = 0; k < SPIKES; k += 1) {
      await sleep(Math.max(0, spikeStart + k * GAP_MS - Date.now()));
      const movie = spikeMovie(k);
      const t0 = Date.now();
      const messages = created.get(movie)!.map((b) => {
        const after: Booking = { ...b, status: 'CANCELLED', updated_at: t0, version: b.version + 1 };
        return bronzeMessage(encoder, change('u', b, after, t0));
      });
      spikeAt.set(movie, t0);
      await producer.send({ topic: topics.bronze, acks: -1, messages });
    }
    await waitFor(() => [...spikeAt.keys()].every((m) => firing.has(m)), {
      timeoutMs: 15_000,
      what: 'every spike to fire',
    }).catch(() => say('  some spikes did not fire within 15 s'));
    const spikeEnd = Date.now();
    sampling = false;
    await lagSampler;
    const spikeSeconds = (spikeEnd - spikeStart) / 1000;
    const spikeBronze = (await endOffsets(admin, topics.bronze)) - bronze0;
    const spikeCpu = coresBetween(spikeCpu0, cpu(cpuIds()), spikeSeconds);
    const spikeLoad1 = load1();

    const latency: number[] = [];
    const toGold: number[] = [];
    const goldToPost: number[] = [];
    for (const [movie, t0] of spikeAt) {
      const post = firing.get(movie);
      if (post === undefined) continue;
      latency.push(post - t0);
      const g = gold.get(movie);
      if (g) {
        toGold.push(g[0] - t0);
        goldToPost.push(post - g[0]);
      }
    }
    say(
      `  p50 ${quantiles(latency).p50} p99 ${quantiles(latency).p99} ms, ${latency.length}/${SPIKES} fired, load ${spikeLoad0}→${spikeLoad1}`,
    );

    // CPU at CPU_RATE events/s through the whole pipeline.
    await background.stop('SIGTERM', { timeoutMs: 60_000 });
    say(`CPU: cdc produce --rate ${CPU_RATE}, ${CPU_SECONDS} s after 5 s to settle`);
    const loaded = cdc([
      'produce',
      '--rate',
      String(CPU_RATE),
      '--seed',
      '43',
      '--no-progress',
      '--ops-port',
      '0',
    ]);
    procs.push(loaded);
    await sleep(5000);
    const cpuLoad0 = load1();
    const cpu0 = cpu(cpuIds());
    const end0 = await endOffsets(admin, topics.bronze);
    const gold0 = await endOffsets(admin, topics.gold);
    const c0 = Date.now();
    await sleep(CPU_SECONDS * 1000);
    const cpu1 = cpu(cpuIds());
    const end1 = await endOffsets(admin, topics.bronze);
    const gold1 = await endOffsets(admin, topics.gold);
    const cpuS = (Date.now() - c0) / 1000;
    const lagEnd = {
      enricher: await groupLag(admin, groups.enricher, topics.bronze),
      aggregator: await groupLag(admin, groups.aggregator, topics.silver),
    };
    const cpuLoad1 = load1();
    await loaded.stop('SIGTERM', { timeoutMs: 60_000 });

    const l = quantiles(latency);
    const result = {
      bench: 'alerts source-to-webhook latency (whole pipeline) and CPU',
      conditions: {
        background: `cdc produce --rate ${RATE}`,
        background_events_per_s_achieved: Math.round(spikeBronze / spikeSeconds),
        partitions: PARTITIONS,
        rule: RULE_TEXT,
        spikes: SPIKES,
        spike: `${BURST} cancellations of one movie in one send to bronze, one spike every ${GAP_MS} ms`,
        cpus: os.cpus().length,
        load_average_1m: { spikes: [spikeLoad0, spikeLoad1], cpu: [cpuLoad0, cpuLoad1] },
      },
      latency_ms: { ...l, missed: SPIKES - latency.length },
      stages_ms: { source_to_gold_sent: quantiles(toGold), gold_sent_to_post: quantiles(goldToPost) },
      posts: {
        firing: posts.firing,
        resolved: posts.resolved,
        duplicates: posts.duplicates,
        // The background's movies fire too while their baselines warm up (cancellations follow
        // creates in the generator's mix): how many, and how many of those during the spikes.
        background_movies_firing: otherFiring.length,
        background_movies_firing_during_spikes: otherFiring.filter((t) => t >= spikeStart && t <= spikeEnd)
          .length,
      },
      cpu_percent_of_one_core_during_spikes: spikeCpu,
      records_waiting_during_spikes: quantiles(lags),
      cpu: {
        rate: CPU_RATE,
        achieved_events_per_s: Math.round((end1 - end0) / cpuS),
        // What `cdc alerts` reads: the aggregator's snapshots, at most one per movie per batch.
        gold_snapshots_per_s: Math.round((gold1 - gold0) / cpuS),
        percent_of_one_core: coresBetween(cpu0, cpu1, cpuS),
        lag_end: lagEnd,
      },
      target_p99_ms: 1000,
      p99_met: l.p99 !== null && l.p99 < 1000 && latency.length === SPIKES,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await goldKeys.disconnect().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
    await Promise.all(
      procs.map(async (p) => {
        if (p.running()) await p.stop('SIGTERM', { timeoutMs: 30_000 }).catch(() => p.kill());
      }),
    );
    server.close();
    await run.cleanup([
      `${prefix}cdc-enricher`,
      `${prefix}cdc-aggregator`,
      `${prefix}cdc-alerts`,
      `${prefix}bench-gold-keys`,
    ]);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
