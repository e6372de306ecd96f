import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { sleep, type MovieKpis } from '@cdc/core';
import { startCdc, type CdcProcess } from '@cdc/testing';
import { cpuSeconds, movieKpis, openGoldBench, percentile, positiveSetting as env } from '../support/gold';

/**
 * The alerts service's reaction time and CPU. Gold snapshots are produced straight to the gold
 * topic at a steady background rate (BENCH_RATE, default 1,000/s; every snapshot is what the
 * aggregator publishes after at least one event, so snapshots/s ≤ events/s and this is the upper
 * bound of gold traffic at that event rate), their event time running 20× the clock so baselines
 * warm up in seconds. Then BENCH_SPIKES spikes (default 50, one movie each, 0.5 s apart): one
 * snapshot with 60 more cancellations. Latency = the webhook POST's arrival at a local receiver -
 * the moment the spike's snapshot was produced: gold consumption, evaluation, the SQLite
 * transaction and the POST (the rule has `for: 0s`; with the shipped rules' `for`, add it). Then
 * the service's CPU (its /metrics) at BENCH_CPU_RATE (default 5,000) snapshots/s.
 *
 * Settings: BENCH_RATE, BENCH_CPU_RATE, BENCH_SPIKES, BENCH_MOVIES; KAFKA_BROKERS, SCHEMA_REGISTRY_URL.
 */
const RATE = env('BENCH_RATE', 1000);
const CPU_RATE = env('BENCH_CPU_RATE', 5000);
const SPIKES = env('BENCH_SPIKES', 50);
const MOVIES = env('BENCH_MOVIES', 200);
const SCALE = 20;

const log = (msg: string): void => void process.stderr.write(`[bench alerts] ${msg}\n`);

const RULES = `rules:
  - type: cancellation_spike
    window: 1m
    min_count: 20
    ratio: 3
    z_score: 4
    clear_ratio: 1.5
    baseline: { half_life: 10m, warm_up: 1m }
    for: 0s
    keep_firing_for: 1m
`;

const kpis = (movie: string, version: number, cancellations: number, ts: number): MovieKpis =>
  movieKpis(movie, version, ts, { cancelled_bookings: cancellations, status_changes: cancellations });

async function main(): Promise<void> {
  const bench = await openGoldBench('bench-alerts', 3);
  const { connection, topics, producer, encoder } = bench;
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'bench-alerts-'));
  const rulesFile = path.join(tmp, 'alerts.yaml');
  writeFileSync(rulesFile, RULES);
  let alerts: CdcProcess | null = null;
  const arrivals = new Map<string, number>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString()) as {
        status: string;
        alert: { subject: string };
      };
      if (body.status === 'firing' && !arrivals.has(body.alert.subject))
        arrivals.set(body.alert.subject, Date.now());
      res.end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const hook = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  try {
    // The aggregator's groups have no offsets here: no lag to judge (pipeline_stale is not in the rules).
    alerts = startCdc(
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
      { connection, env: { LOG_LEVEL: 'info' } },
    );
    const port = (await alerts.waitForOutput(/"opsPort":(\d+)/))[1]!;
    const url = `http://127.0.0.1:${port}`;

    const versions = new Array<number>(MOVIES).fill(0);
    const cancels = new Array<number>(MOVIES).fill(0);
    const name = (i: number): string => `M${String(i).padStart(4, '0')}`;
    const t0 = Date.now();
    const eventNow = (): number => t0 + (Date.now() - t0) * SCALE;
    let next = 0;
    /** Background: `rate` snapshots/s over all movies, one cancellation in every tenth. */
    const background = async (
      rate: number,
      seconds: number,
      during?: (elapsedMs: number) => Promise<void>,
    ) => {
      const start = Date.now();
      let sent = 0;
      while (Date.now() - start < seconds * 1000) {
        const due = Math.floor(((Date.now() - start) / 1000) * rate);
        if (due > sent) {
          const ts = eventNow();
          const messages = [];
          for (; sent < due; sent += 1) {
            const i = next++ % MOVIES;
            versions[i]! += 1;
            if (versions[i]! % 10 === 0) cancels[i]! += 1;
            messages.push({
              key: name(i),
              value: encoder.encode(kpis(name(i), versions[i]!, cancels[i]!, ts)),
            });
          }
          await producer.send({ topic: topics.gold, acks: 1, messages });
        }
        if (during) await during(Date.now() - start);
        await sleep(5);
      }
      return sent;
    };

    const load0 = os.loadavg()[0]!;
    log(`warming up: ${RATE} snapshots/s, event time ${SCALE}x (baselines need 2 min of event time)`);
    await background(RATE, 12);
    log(`${SPIKES} spikes, one every 0.5 s, on ${RATE} snapshots/s of background`);
    const produced = new Map<string, number>();
    await background(RATE, SPIKES * 0.5 + 5, async (elapsed) => {
      const k = produced.size;
      if (k >= SPIKES || elapsed < k * 500) return;
      const i = MOVIES - 1 - k;
      versions[i]! += 1;
      cancels[i]! += 60;
      const value = encoder.encode(kpis(name(i), versions[i]!, cancels[i]!, eventNow()));
      const at = Date.now();
      await producer.send({ topic: topics.gold, acks: 1, messages: [{ key: name(i), value }] });
      produced.set(name(i), at);
    });
    const latencies = [...produced]
      .flatMap(([m, at]) => (arrivals.has(m) ? [arrivals.get(m)! - at] : []))
      .sort((a, b) => a - b);

    log(`CPU at ${CPU_RATE} snapshots/s for 20 s`);
    const cpu0 = await cpuSeconds(url);
    const start = Date.now();
    const sent = await background(CPU_RATE, 20);
    const seconds = (Date.now() - start) / 1000;
    const cpu = ((await cpuSeconds(url)) - cpu0) / seconds;

    const result = {
      bench: 'alerts spike-to-webhook latency and CPU',
      conditions: {
        background_snapshots_per_s: RATE,
        movies: MOVIES,
        gold_partitions: 3,
        event_time_scale: SCALE,
        rule: 'cancellation_spike, window 1m, for 0s',
        spikes: SPIKES,
        cpus: os.cpus().length,
        load_average_1m: [Number(load0.toFixed(2)), Number(os.loadavg()[0]!.toFixed(2))],
      },
      latency_ms: {
        p50: percentile(latencies, 50),
        p90: percentile(latencies, 90),
        p99: percentile(latencies, 99),
        max: latencies.at(-1) ?? NaN,
        samples: latencies.length,
        missed: SPIKES - latencies.length,
      },
      cpu: {
        target_snapshots_per_s: CPU_RATE,
        achieved_snapshots_per_s: Math.round(sent / seconds),
        percent_of_one_core: Number((cpu * 100).toFixed(1)),
      },
      target_p99_ms: 1000,
      p99_met: percentile(latencies, 99) < 1000 && latencies.length === SPIKES,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await alerts?.stop();
    server.close();
    await bench.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
