import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import avro from 'avsc';
import WebSocket from 'ws';
import {
  createDecoder,
  loadSchema,
  type MovieKpis,
  type RegistryClient,
  type Admin,
  type Kafka,
} from '@cdc/core';
import { groupLag as consumerGroupLag } from '@cdc/observe';
import type { ServerMessage } from '@cdc/live-ui';

/**
 * What the end-to-end benchmark measures with, apart from the pipeline itself: CPU time of a
 * process from /proc, consumer lag from the broker, and a websocket client on the dashboard
 * timing change-to-screen.
 */

const CLOCK_TICKS_PER_S = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** User + system CPU seconds of a process, all its threads (null once it is gone). */
export function cpuSecondsOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S;
  } catch {
    return null;
  }
}

/**
 * The broker's pid: BENCH_BROKER_PID, else the pid file in BENCH_BROKER_PID_FILE (bench/run.js sets
 * it for the stack it starts), else whoever listens on the broker's port (`ss`). Null if unknown.
 */
export function brokerPid(broker: string): number | null {
  const direct = Number(process.env.BENCH_BROKER_PID);
  if (Number.isInteger(direct) && direct > 0) return direct;
  const file = process.env.BENCH_BROKER_PID_FILE;
  if (file) {
    try {
      const pid = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0) return pid;
    } catch {
      // fall through
    }
  }
  const port = broker.split(':').pop();
  try {
    const out = execFileSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' });
    const m = /pid=(\d+)/.exec(out);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Sum over partitions of the end offsets of a topic. */
export async function endOffsets(admin: Admin, topic: string): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((sum, p) => sum + Number(p.high), 0);
}

/** Records of `topic` not yet committed by `groupId` (a partition without an offset counts from its start). */
export async function groupLag(admin: Admin, groupId: string, topic: string): Promise<number> {
  return (await consumerGroupLag(admin, groupId, topic)).total;
}

/** One push of the dashboard as a client saw it. */
export interface Push {
  /** Receipt time (epoch ms). */
  at: number;
  /** Receipt time minus the batch's newest event time. */
  lagMs: number;
  movies: number;
}

/**
 * A websocket client on the dashboard, as a browser would be: it takes the snapshot, then times
 * every `changes` push: receipt time minus the push's newest event time (`maxEventTsMs`), which
 * is the change-to-screen latency of the newest change the push carries.
 */
export interface DashboardClient {
  readonly pushes: Push[];
  /** The newest event time the client has seen (0 before any push). */
  readonly newestEventTsMs: number;
  close(): void;
}

export async function connectDashboard(url: string): Promise<DashboardClient> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/ws`, { origin: url, perMessageDeflate: false });
  const pushes: Push[] = [];
  let newest = 0;
  await new Promise<void>((resolve, reject) => {
    ws.once('error', reject);
    ws.on('message', (raw: WebSocket.RawData) => {
      const at = Date.now();
      const msg = JSON.parse((raw as Buffer).toString()) as ServerMessage;
      if (msg.type === 'snapshot') resolve();
      if (msg.type !== 'changes') return;
      if (msg.maxEventTsMs > newest) newest = msg.maxEventTsMs;
      if (msg.maxEventTsMs > 0)
        pushes.push({ at, lagMs: at - msg.maxEventTsMs, movies: msg.movies.rows.length });
    });
  });
  return {
    pushes,
    get newestEventTsMs() {
      return newest;
    },
    close: () => ws.terminate(),
  };
}

export interface Quantiles {
  count: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
}

export function quantiles(values: number[]): Quantiles {
  const s = Float64Array.from(values).sort();
  const q = (p: number) => (s.length === 0 ? null : s[Math.min(s.length - 1, Math.floor(p * s.length))]!);
  return {
    count: s.length,
    p50: q(0.5),
    p90: q(0.9),
    p99: q(0.99),
    max: s.length ? s[s.length - 1]! : null,
  };
}

/** Least-squares slope of y over x (per unit of x); 0 with fewer than two points. */
export function slope(points: readonly { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

export const round = (v: number, digits = 1): number => Number(v.toFixed(digits));

/** One observation of a stage: when the bench saw it and how long after the change's event time. */
interface StageSample {
  at: number;
  ms: number;
}

/**
 * Where the time goes, per change, from the topics (a consumer in the bench process, read
 * committed, starting at the end): for silver, `enriched_at − ts_ms` (producer, bronze, the
 * enricher's fetch and enrichment) and receipt − ts_ms (plus the transaction's commit and its
 * markers); for gold, the record's timestamp (the aggregator's send) − the movie's newest event
 * time. Silver is decoded through a two-field projection (avsc skips the rest).
 */
export interface StageTracer {
  /** Quantiles of each stage among samples seen in [from, to]. */
  summary(from: number, to: number): Record<string, Quantiles>;
  stop(): Promise<void>;
}

export async function startStageTracer(o: {
  kafka: Kafka;
  registry: RegistryClient;
  topics: { silver: string; gold: string };
  groupId: string;
}): Promise<StageTracer> {
  const silverSchema = JSON.parse(loadSchema('EnrichedBookingChange').text) as {
    fields: { name: string }[];
  };
  const head = avro.Type.forSchema({
    ...silverSchema,
    fields: silverSchema.fields.filter((f) => f.name === 'ts_ms' || f.name === 'enriched_at'),
  } as avro.Schema);
  const silver = createDecoder<{ ts_ms: number; enriched_at: number }>(o.registry, head);
  const gold = createDecoder<MovieKpis>(o.registry, loadSchema('MovieKpis').type);
  const stages: Record<string, StageSample[]> = {
    silver_enriched: [],
    silver_committed: [],
    gold_sent: [],
  };
  const consumer = o.kafka.consumer({ groupId: o.groupId, maxWaitTimeInMs: 100, readUncommitted: false });
  await consumer.connect();
  await consumer.subscribe({ topics: [o.topics.silver, o.topics.gold], fromBeginning: false });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      const at = Date.now();
      for (const m of batch.messages) {
        if (m.value === null) continue;
        try {
          if (batch.topic === o.topics.silver) {
            const v = silver.decodeKnown(m.value) ?? (await silver.decode(m.value));
            stages.silver_enriched!.push({ at, ms: v.enriched_at - v.ts_ms });
            stages.silver_committed!.push({ at, ms: at - v.ts_ms });
          } else {
            const v = gold.decodeKnown(m.value) ?? (await gold.decode(m.value));
            stages.gold_sent!.push({ at, ms: Number(m.timestamp) - v.last_event_ts_ms });
          }
        } catch {
          // not ours to judge: the pipeline counts undecodable records
        }
      }
    },
  });
  return {
    summary(from, to) {
      const out: Record<string, Quantiles> = {};
      for (const [k, v] of Object.entries(stages)) {
        out[k] = quantiles(v.filter((s) => s.at >= from && s.at <= to).map((s) => s.ms));
        stages[k] = v.filter((s) => s.at > to);
      }
      return out;
    },
    stop: () => consumer.disconnect(),
  };
}
