import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { openWritable } from '@cdc/read-model';
import { sleep, waitFor, type MovieKpis } from '@cdc/core';
import type { ServerMessage } from '@cdc/live-ui';
import { startCdc, type CdcProcess } from '@cdc/testing';
import { cpuSeconds, movieKpis, openGoldBench, percentile, positiveSetting as env } from '../support/gold';

/**
 * Event-to-browser latency of the live UI: gold snapshots produced at a steady rate (default
 * 1,000/s), each stamped with its produce time in `last_event_ts_ms`, pushed by `cdc ui` (a child
 * process) to N websocket clients (default 100). Latency = receipt by a client - produce time.
 * Only a few clients parse messages to take samples (the others just count bytes), so the bench
 * process does not distort what it measures. The server's CPU comes from its own /metrics
 * (process_cpu_seconds_total), idle with the clients connected and under load.
 *
 * Settings: BENCH_RATE, BENCH_DURATION_S, BENCH_CLIENTS, BENCH_SAMPLING_CLIENTS, BENCH_MOVIES,
 * BENCH_PARTITIONS; KAFKA_BROKERS and SCHEMA_REGISTRY_URL for the broker.
 */
const RATE = env('BENCH_RATE', 1000);
const DURATION_S = env('BENCH_DURATION_S', 20);
const CLIENTS = env('BENCH_CLIENTS', 100);
const SAMPLING = Math.min(CLIENTS, env('BENCH_SAMPLING_CLIENTS', 5));
const MOVIES = env('BENCH_MOVIES', 200);
const PARTITIONS = env('BENCH_PARTITIONS', 3);

const log = (msg: string): void => void process.stderr.write(`[bench live-ui] ${msg}\n`);

const kpis = (movie: string, version: number, now: number): MovieKpis =>
  movieKpis(movie, version, now, {
    total_bookings: version % 100,
    valid_bookings: version % 100,
    active_bookings: version % 50,
    cancelled_bookings: version % 7,
    total_tickets: version % 300,
    total_lost_revenue_cents: version * 10,
    total_gross_revenue_cents: version * 160,
    single_bookings: 1,
    group_bookings: 2,
    budget_bookings: 1,
    standard_bookings: 2,
    cancellation_rate_percent: 12.5,
    active_rate_percent: 87.5,
    avg_revenue_per_active_booking_cents: 1500,
    booking_days: 3,
    active_hours: 5,
    status_changes: 1,
    updates: 2,
  });

/** Quantile estimate (bucket upper bound) of a Prometheus histogram, in ms. */
async function histogramQuantiles(url: string, name: string, qs: number[]): Promise<Record<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const buckets: [number, number][] = [];
  const re = new RegExp(`^${name}_bucket\\{[^}]*le="([^"]+)"[^}]*\\} (\\d+)$`, 'gm');
  for (let m = re.exec(text); m; m = re.exec(text)) buckets.push([Number(m[1]), Number(m[2])]);
  const count = buckets.at(-1)?.[1] ?? 0;
  const out: Record<string, number> = {};
  for (const q of qs) {
    const hit = buckets.find(([, c]) => c >= q * count);
    out[`p${q * 100}_le`] = hit ? hit[0] * 1000 : NaN;
  }
  return out;
}

async function main(): Promise<void> {
  const bench = await openGoldBench('bench-ui', PARTITIONS);
  const { connection, producer, encoder, topics } = bench;
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'bench-live-ui-'));
  const dbPath = path.join(tmp, 'aggregator.db');
  openWritable(dbPath).close();
  let ui: CdcProcess | null = null;
  const sockets: WebSocket[] = [];
  try {
    log(`starting cdc ui (gold ${topics.gold})`);
    ui = startCdc(['ui', '--port', '0', '--db', dbPath], {
      connection,
      env: { LOG_LEVEL: 'warn' },
      echo: true,
    });
    const url = (await ui.waitForOutput(/dashboard at (\S+)/, { stream: 'stdout' }))[1]!;
    await ui.waitFor(async () => (await fetch(`${url}/healthz`)).status === 200, {
      timeoutMs: 30_000,
      what: 'cdc ui to be ready',
    });

    // Clients: a few sample latencies, the rest only receive.
    const samples: number[] = [];
    let received = 0;
    let bytes = 0;
    const snapshots = new Set<number>();
    for (let i = 0; i < CLIENTS; i += 1) {
      const ws = new WebSocket(`${url.replace('http', 'ws')}/ws`, { origin: url, perMessageDeflate: false });
      const sampling = i < SAMPLING;
      ws.on('message', (raw: WebSocket.RawData) => {
        const data = raw as Buffer;
        const now = Date.now();
        bytes += data.length;
        if (!snapshots.has(i)) {
          snapshots.add(i);
          return;
        }
        if (!sampling) return;
        const msg = JSON.parse(data.toString()) as ServerMessage;
        if (msg.type !== 'changes') return;
        const ts = msg.movies.columns.indexOf('last_event_ts_ms');
        for (const row of msg.movies.rows) {
          samples.push(now - Number(row[ts]));
          received += 1;
        }
      });
      ws.on('error', (err) => log(`client ${i}: ${err.message}`));
      sockets.push(ws);
    }
    await waitFor(() => snapshots.size === CLIENTS, { timeoutMs: 30_000, what: `${CLIENTS} snapshots` });
    log(`${CLIENTS} clients connected; measuring idle CPU for 5 s`);
    const idle0 = await cpuSeconds(url);
    const idleStart = Date.now();
    await sleep(5000);
    const idleCpu = ((await cpuSeconds(url)) - idle0) / ((Date.now() - idleStart) / 1000);

    log(`producing ${RATE} gold events/s for ${DURATION_S} s over ${MOVIES} movies`);
    const total = Math.round(RATE * DURATION_S);
    const cpu0 = await cpuSeconds(url);
    const start = Date.now();
    let sent = 0;
    let version = 0;
    let lastReport = start;
    while (sent < total) {
      const due = Math.min(total, Math.floor(((Date.now() - start) / 1000) * RATE));
      if (due > sent) {
        const now = Date.now();
        const messages = [];
        for (; sent < due; sent += 1) {
          version += 1;
          const movie = `M${String(version % MOVIES).padStart(4, '0')}`;
          messages.push({ key: movie, value: encoder.encode(kpis(movie, version, now)) });
        }
        await producer.send({ topic: topics.gold, acks: 1, messages });
      }
      if (Date.now() - lastReport >= 5000) {
        lastReport = Date.now();
        log(`  ${sent}/${total} produced, ${samples.length} samples`);
      }
      await sleep(5);
    }
    const produceS = (Date.now() - start) / 1000;
    await sleep(2000);
    const loadS = (Date.now() - start) / 1000;
    const loadCpu = ((await cpuSeconds(url)) - cpu0) / loadS;

    const sorted = Float64Array.from(samples).sort();
    const result = {
      bench: 'live-ui event-to-browser latency',
      conditions: {
        target_rate_events_per_s: RATE,
        achieved_rate_events_per_s: Math.round(total / produceS),
        events: total,
        duration_s: Number(produceS.toFixed(1)),
        movies: MOVIES,
        gold_partitions: PARTITIONS,
        clients: CLIENTS,
        sampling_clients: SAMPLING,
        coalesce_ms: Number(process.env.UI_COALESCE_MS ?? 50),
        cpus: os.cpus().length,
      },
      latency_ms: {
        p50: percentile(sorted, 50),
        p90: percentile(sorted, 90),
        p99: percentile(sorted, 99),
        max: sorted.length ? sorted[sorted.length - 1] : NaN,
        samples: sorted.length,
      },
      server_side_ms: {
        event_to_push: await histogramQuantiles(url, 'cdc_live_ui_event_to_push_seconds', [0.5, 0.99]),
        gold_arrival_to_push: await histogramQuantiles(url, 'cdc_live_ui_push_latency_seconds', [0.5, 0.99]),
      },
      delivered_snapshot_share: Number((received / SAMPLING / total).toFixed(3)),
      server_cpu_percent_of_one_core: {
        idle_with_clients: Number((idleCpu * 100).toFixed(1)),
        under_load: Number((loadCpu * 100).toFixed(1)),
      },
      pushed_mb_per_s_all_clients: Number((bytes / 1e6 / loadS).toFixed(2)),
      target_p99_ms: 250,
      p99_met: percentile(sorted, 99) < 250,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    for (const ws of sockets) ws.terminate();
    await ui?.stop();
    await bench.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
