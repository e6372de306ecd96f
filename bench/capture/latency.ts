import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { sleep, waitFor } from '@cdc/core';
import { runCdc, startCdc, type CdcProcess } from '@cdc/testing';
import { connectDashboard, groupLag, quantiles, round, type DashboardClient } from '../e2e/common';
import { openBenchRun } from '../support/pipeline';
import { openBenchSource, sampleEverySecond } from './common';

/**
 * Database commit → dashboard, through the real capture path: SQL transactions on
 * raw_movie_bookings in the stack's PostgreSQL, Debezium on the Kafka Connect worker, `cdc
 * capture`, `cdc enrich`, `cdc aggregate` and `cdc ui` as child processes, and a websocket client
 * on the dashboard. Latency is the receipt time of a push minus its newest change's commit time
 * (Debezium's source.ts_ms, the commit record's time). The share of it spent before Kafka is
 * measured on Debezium's own topic (the record's timestamp minus source.ts_ms), so the rest is
 * the pipeline's.
 *
 * The workload: transactions of 1–5 changes (3 on average) paced to the rate: half inserts, the
 * rest cancellations and re-bookings, price changes and deletes of live bookings.
 *
 * Settings (env): BENCH_CAPTURE_RATES (1000), BENCH_CAPTURE_SECONDS (30, each measured window),
 * BENCH_CAPTURE_SETTLE_S (5), BENCH_CAPTURE_CLIENTS (8 database connections), BENCH_PARTITIONS (3), BENCH_POSTGRES_PORT / BENCH_CONNECT_PORT.
 */
const num = (name: string, def: number): number => {
  const v = Number(process.env[name] ?? def);
  if (!Number.isFinite(v) || v < 0) throw new Error(`${name} must be a number ≥ 0`);
  return v;
};
const RATES = (process.env.BENCH_CAPTURE_RATES ?? '1000').split(',').map(Number);
const SECONDS = num('BENCH_CAPTURE_SECONDS', 30);
const SETTLE_S = num('BENCH_CAPTURE_SETTLE_S', 5);
const PARTITIONS = num('BENCH_PARTITIONS', 3);
const CLIENTS = num('BENCH_CAPTURE_CLIENTS', 8);

const say = (msg: string): void => void process.stderr.write(`[bench capture/latency] ${msg}\n`);
const emit = (line: object): void => void process.stdout.write(`${JSON.stringify(line)}\n`);

/**
 * Paced SQL traffic from several connections at once, as a booking application's users make it:
 * each connection owns its bookings (no two transactions wait on one row), and sends a whole
 * transaction as one query (one round trip). A single connection is bound by the commit's flush
 * to disk, not by the pipeline.
 */
class SqlTraffic {
  changes = 0;
  private issued = 0;
  private readonly workers: { db: Client; live: string[]; next: number; prefix: string }[];

  constructor(clients: Client[], prefix: string) {
    this.workers = clients.map((db, i) => ({ db, live: [], next: 0, prefix: `${prefix}${i}-` }));
  }

  async run(rate: number, seconds: number): Promise<void> {
    const t0 = Date.now();
    const start = this.issued;
    await Promise.all(
      this.workers.map(async (w) => {
        while (Date.now() - t0 < seconds * 1000) {
          const due = ((Date.now() - t0) / 1000) * rate - (this.issued - start);
          if (due < 1) {
            await sleep(2);
            continue;
          }
          const n = 1 + Math.floor(Math.random() * 5);
          this.issued += n;
          const statements = Array.from({ length: n }, () => change(w));
          await w.db.query(`BEGIN; ${statements.join(' ')} COMMIT;`);
          this.changes += n;
        }
      }),
    );
  }
}

function change(w: { live: string[]; next: number; prefix: string }): string {
  const roll = Math.random();
  if (w.live.length < 20 || roll < 0.5) {
    const id = `${w.prefix}${w.next++}`;
    w.live.push(id);
    const movie = `M${1 + Math.floor(Math.random() * 20)}`;
    const price = (5 + Math.random() * 20).toFixed(2);
    return `INSERT INTO raw_movie_bookings (booking_id, customer_id, movie_id, booking_date, status, ticket_count, ticket_price)
      VALUES ('${id}', 'C${Math.floor(Math.random() * 1000)}', '${movie}', now() - interval '1 day', 'BOOKED', ${1 + Math.floor(Math.random() * 6)}, ${price});`;
  }
  const at = Math.floor(Math.random() * w.live.length);
  const id = w.live[at]!;
  if (roll < 0.7) {
    const status = Math.random() < 0.75 ? 'CANCELLED' : 'BOOKED';
    return `UPDATE raw_movie_bookings SET status = '${status}', updated_at = now() WHERE booking_id = '${id}';`;
  }
  if (roll < 0.9) {
    const price = (5 + Math.random() * 20).toFixed(2);
    return `UPDATE raw_movie_bookings SET ticket_price = ${price}, updated_at = now() WHERE booking_id = '${id}';`;
  }
  w.live[at] = w.live[w.live.length - 1]!;
  w.live.pop();
  return `DELETE FROM raw_movie_bookings WHERE booking_id = '${id}';`;
}

async function main(): Promise<void> {
  const run = await openBenchRun('capture');
  const source = await openBenchSource();
  const { connection, topics, admin, kafka, tmp, prefix } = run;
  const env = { LOG_LEVEL: 'warn', DATABASE_URL: source.databaseUrl, CONNECT_URL: source.connectUrl };
  const procs: CdcProcess[] = [];
  const cdc = (args: string[]): CdcProcess => {
    const p = startCdc(args, { connection, env });
    procs.push(p);
    return p;
  };
  const db = path.join(tmp, 'aggregator.db');
  const sourceTopic = `${prefix}movies.source.raw_movie_bookings`;
  const groups = {
    capture: `${prefix}cdc-capture`,
    enricher: `${prefix}cdc-enricher`,
    aggregator: `${prefix}cdc-aggregator`,
  };
  let client: DashboardClient | null = null;
  const closers: (() => Promise<unknown>)[] = [];
  const debezium: number[] = [];
  const traceConsumer = kafka.consumer({ groupId: `${prefix}bench-source-trace`, maxWaitTimeInMs: 50 });
  try {
    const created = await runCdc(['topics', 'create', '--partitions', String(PARTITIONS)], { connection });
    if (created.code !== 0) throw new Error(`cdc topics create: ${created.stderr}`);
    const connector = await runCdc(['source', 'create', '--execute'], { connection, env });
    if (connector.code !== 0) throw new Error(`cdc source create: ${connector.stderr}`);
    cdc(['capture', '--ops-port', '0']);
    cdc(['enrich', '--ops-port', '0']);
    cdc(['aggregate', '--db', db, '--ops-port', '0']);
    const ui = cdc(['ui', '--port', '0', '--db', db]);
    const url = (await ui.waitForOutput(/dashboard at (\S+)/, { stream: 'stdout', timeoutMs: 60_000 }))[1]!;
    client = await connectDashboard(url);
    await traceConsumer.connect();
    await traceConsumer.subscribe({ topic: sourceTopic, fromBeginning: false });
    await traceConsumer.run({
      eachMessage: async ({ message }) => {
        const v = JSON.parse(message.value?.toString() ?? '{}') as { source?: { ts_ms?: number } };
        if (v.source?.ts_ms) debezium.push(Number(message.timestamp) - v.source.ts_ms);
      },
    });
    const clients = await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        const c = new Client({ connectionString: source.databaseUrl });
        await c.connect();
        return c;
      }),
    );
    closers.push(() => Promise.all(clients.map((c) => c.end())));
    const traffic = new SqlTraffic(clients, `b${Date.now().toString(36)}-`);
    const lag = async (): Promise<number> =>
      (
        await Promise.all([
          groupLag(admin, groups.capture, sourceTopic),
          groupLag(admin, groups.enricher, topics.bronze),
          groupLag(admin, groups.aggregator, topics.silver),
        ])
      ).reduce((a, b) => a + b, 0);
    const drain = async (): Promise<void> => {
      await waitFor(async () => (await lag()) <= PARTITIONS * 3, {
        timeoutMs: 300_000,
        intervalMs: 250,
        what: 'the pipeline to catch up',
      });
    };

    say('warming up: 500 changes/s for 15 s');
    await traffic.run(500, 15);
    await waitFor(() => client!.pushes.length > 0, {
      timeoutMs: 120_000,
      what: 'a first push on the dashboard',
    });
    await drain();
    const idleRss = source.connectRssMb();

    for (const rate of RATES) {
      await traffic.run(rate, SETTLE_S);
      const pushes0 = client.pushes.length;
      const debezium0 = debezium.length;
      const changes0 = traffic.changes;
      const rss = sampleEverySecond(() => source.connectRssMb());
      const t0 = Date.now();
      await traffic.run(rate, SECONDS);
      const seconds = (Date.now() - t0) / 1000;
      const memory = rss.stop();
      await drain();
      const latency = quantiles(client.pushes.slice(pushes0).map((p) => p.lagMs));
      const beforeKafka = quantiles(debezium.slice(debezium0));
      emit({
        bench: 'capture/latency',
        rate,
        achieved_changes_per_s: round((traffic.changes - changes0) / seconds, 0),
        commit_to_dashboard_ms: latency,
        commit_to_debezium_topic_ms: beforeKafka,
        connect_rss_mb: { idle: idleRss, peak: memory.peak, last: memory.last },
        conditions: {
          clients: CLIENTS,
          cpus: os.cpus().length,
          load1: round(os.loadavg()[0]!, 2),
          node: process.version,
          partitions: PARTITIONS,
          seconds: SECONDS,
        },
      });
    }
  } finally {
    client?.close();
    for (const close of closers) await close().catch(() => undefined);
    await traceConsumer.disconnect().catch(() => undefined);
    await runCdc(['source', 'delete', '--execute'], { connection, env }).catch(() => undefined);
    for (const p of procs) await p.stop('SIGTERM', { timeoutMs: 30_000 }).catch(() => undefined);
    await source.close();
    await run.cleanup(Object.values(groups));
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
