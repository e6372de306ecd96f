import { Worker } from 'node:worker_threads';
import type avro from 'avsc';
import {
  CdcError,
  UnavailableError,
  workerScript,
  type ConnectionConfig,
  type Logger,
  type LogLevel,
} from '@cdc/core';
import { createChunkBuilder, type Chunk, type ChunkBuilder } from './chunk';
import type { FromLane, LaneWorkerData, ToLane } from './lane-worker';
import { race } from './timing';
import { partitionFor } from '@cdc/core';

/**
 * The Kafka edge: events are Avro-encoded into chunks on the main thread and sent by lanes,
 * each an idempotent kafkajs producer (acks=all) in its own worker thread owning a disjoint set
 * of partitions (partition % lanes).
 *
 * kafkajs 2.2.4 and idempotence: a producer serialises its produce requests per broker behind a
 * lock (one request per broker on the wire anyway), and when a request fails it rolls its
 * sequence numbers back — a send queued behind it then takes the failed one's numbers, and the
 * retry lands after it (reordered), or, if the failed batch had in fact been written, is taken
 * for its duplicate and silently dropped. So each lane has ONE send in flight; throughput comes
 * from large chunks, from building the next chunk while one is in flight, and from several
 * lanes working in parallel. A booking always maps to one partition, so to one lane, so its
 * changes stay in order.
 */
export interface SendCounts {
  /** Records per kind index (see CHANGE_KINDS). */
  byKind: number[];
  total: number;
  /** The lane that sent them (lanes send their chunks in the order records were pushed). */
  lane: number;
}

export interface SenderEvents {
  sent(c: SendCounts): void;
  acked(c: SendCounts): void;
  failed(c: SendCounts, err: Error): void;
  /** A send is waiting out an outage (the broker does not answer); `acked` follows when it ends. */
  retrying(reason: string): void;
}

export interface SenderOptions {
  connection: ConnectionConfig;
  topic: string;
  partitions: number;
  lanes: number;
  batchSize: number;
  schemaId: number;
  type: avro.Type;
  kinds: number;
  logLevel: LogLevel;
  events: SenderEvents;
  requestTimeoutMs?: number;
  /** How long a send waits out an outage (null: until closed). */
  maxOutageMs: number | null;
}

export interface Sender {
  connect(): Promise<void>;
  /** Encodes one record of kind `kind` (an index) into its lane's chunk and returns the lane; `kick()` sends. */
  push(key: string, value: unknown, kind: number): number;
  /** Starts a send on every idle lane that has records. */
  kick(): void;
  /** Records encoded, not yet handed to Kafka. */
  readonly queued: number;
  /** Records handed to Kafka and not yet acknowledged or failed. */
  readonly inFlight: number;
  /** The first send that failed (after kafkajs's retries); sending stops after it. */
  readonly failure: Error | null;
  /** Resolves when any send completes (or fails). */
  nextCompletion(): Promise<void>;
  /** Resolves when every queued record was sent and acknowledged, or sending stopped. */
  drained(): Promise<void>;
  /** Drops the queued records (never sent); returns how many. */
  discard(): number;
  /** Closes the lanes; a lane still busy after `graceMs` is terminated. */
  close(graceMs?: number): Promise<void>;
}

interface Lane {
  index: number;
  worker: Worker;
  builder: ChunkBuilder;
  full: Chunk[];
  inFlight: { id: number; chunk: Chunk } | null;
  exited: Promise<void>;
  alive: boolean;
}

/** The compiled worker (under ts-jest/swc the sources run from src/, the worker from dist/). */
export function createSender(o: SenderOptions): Sender {
  const laneCount = Math.max(1, Math.min(o.lanes, o.partitions));
  const data: LaneWorkerData = {
    connection: o.connection,
    topic: o.topic,
    logLevel: o.logLevel,
    requestTimeoutMs: o.requestTimeoutMs ?? 30_000,
    maxOutageMs: o.maxOutageMs,
  };
  const lanes: Lane[] = [];
  let queued = 0;
  let inFlight = 0;
  let failure: Error | null = null;
  let nextId = 1;
  let closing = false;
  let waiters: (() => void)[] = [];

  const notify = (): void => {
    const w = waiters;
    waiters = [];
    for (const resolve of w) resolve();
  };
  const counts = (lane: Lane, c: Chunk): SendCounts => ({
    byKind: c.byKind,
    total: c.count,
    lane: lane.index,
  });
  const fail = (lane: Lane, err: Error): void => {
    failure ??= err;
    if (lane.inFlight) {
      inFlight -= lane.inFlight.chunk.count;
      o.events.failed(counts(lane, lane.inFlight.chunk), err);
      lane.inFlight = null;
    }
    notify();
  };

  function start(lane: Lane): void {
    if (lane.inFlight || failure !== null || !lane.alive) return;
    const chunk = lane.full.shift() ?? (lane.builder.count > 0 ? lane.builder.take() : undefined);
    if (!chunk) return;
    const id = nextId++;
    lane.inFlight = { id, chunk };
    queued -= chunk.count;
    inFlight += chunk.count;
    o.events.sent(counts(lane, chunk));
    const m: ToLane = { type: 'send', id, buffer: chunk.buffer, bounds: chunk.bounds, count: chunk.count };
    lane.worker.postMessage(m, [chunk.buffer, chunk.bounds.buffer as ArrayBuffer]);
  }

  function onMessage(lane: Lane, m: FromLane): void {
    if (m.type === 'acked' && lane.inFlight?.id === m.id) {
      const { chunk } = lane.inFlight;
      lane.inFlight = null;
      inFlight -= chunk.count;
      o.events.acked(counts(lane, chunk));
      start(lane);
      notify();
    } else if (m.type === 'retrying' && lane.inFlight?.id === m.id) {
      o.events.retrying(m.error);
    } else if (m.type === 'failed' && lane.inFlight?.id === m.id) {
      fail(
        lane,
        m.retriable
          ? new UnavailableError('broker', `send failed after retries: ${m.error}`)
          : new CdcError('DEPENDENCY_FAILED', `send failed: ${m.error}`),
      );
    }
  }

  const kick = (): void => lanes.forEach(start);

  return {
    async connect() {
      const file = workerScript(__dirname, 'lane-worker');
      const ready = Array.from({ length: laneCount }, (_, index) => {
        const worker = new Worker(file, { workerData: data });
        const lane: Lane = {
          index,
          worker,
          builder: createChunkBuilder({
            schemaId: o.schemaId,
            type: o.type,
            capacity: o.batchSize,
            kinds: o.kinds,
          }),
          full: [],
          inFlight: null,
          alive: true,
          exited: new Promise<void>((resolve) => worker.once('exit', () => resolve())),
        };
        lanes.push(lane);
        return new Promise<void>((resolve, reject) => {
          worker.on('message', (m: FromLane) => {
            if (m.type === 'ready') resolve();
            else if (m.type === 'fatal') {
              reject(new UnavailableError('broker', `a producer could not connect: ${m.error}`));
            } else onMessage(lane, m);
          });
          worker.on('error', (err) => {
            fail(lane, err);
            reject(err);
          });
          worker.on('exit', (code) => {
            lane.alive = false;
            const err = new CdcError('INTERNAL', `producer lane exited (code ${code})`);
            // A lane that dies on its own takes its partitions with it: stop the run. (One
            // terminated while closing keeps its unanswered chunk: the run reports those.)
            if (!closing) fail(lane, err);
            reject(err);
            notify();
          });
        });
      });
      await Promise.all(ready);
    },
    push(key, value, kind) {
      const partition = partitionFor(key, o.partitions);
      const lane = lanes[partition % lanes.length]!;
      lane.builder.add(key, value, partition, kind);
      queued++;
      if (lane.builder.count >= o.batchSize) lane.full.push(lane.builder.take());
      return lane.index;
    },
    kick,
    get queued() {
      return queued;
    },
    get inFlight() {
      return inFlight;
    },
    get failure() {
      return failure;
    },
    nextCompletion: () => new Promise<void>((resolve) => waiters.push(resolve)),
    async drained() {
      for (;;) {
        kick();
        if (!lanes.some((l) => l.inFlight !== null)) return;
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
    discard() {
      let n = 0;
      for (const lane of lanes) {
        for (const c of lane.full) n += c.count;
        n += lane.builder.take().count;
        lane.full = [];
      }
      queued -= n;
      return n;
    },
    async close(graceMs = 10_000) {
      closing = true;
      await Promise.all(
        lanes.map(async (lane) => {
          if (lane.alive) lane.worker.postMessage({ type: 'close' } satisfies ToLane);
          const timer = setTimeout(() => void lane.worker.terminate(), graceMs);
          await lane.exited;
          clearTimeout(timer);
        }),
      );
    },
  };
}

/**
 * The end of a run's sending (the producer's and the import's): a run that completed sends
 * everything it queued (unless aborted meanwhile); then whatever is still queued is dropped and
 * the sends in flight get `drainTimeoutMs` to be answered.
 */
export async function finishSending(
  sender: Sender,
  o: { completed: boolean; signal?: AbortSignal; drainTimeoutMs: number; logger: Logger },
): Promise<{ stopped: boolean; notSent: number; unanswered: number; failed: boolean }> {
  let stopped = false;
  if (o.completed && sender.failure === null) {
    stopped = (await race(sender.drained(), Infinity, o.signal)) === 'aborted';
  }
  const notSent = sender.discard();
  let unanswered = 0;
  if ((await race(sender.drained(), o.drainTimeoutMs)) === 'timeout') {
    unanswered = sender.inFlight;
    o.logger.error({ unanswered }, `sends unanswered after ${o.drainTimeoutMs} ms; giving up`);
  }
  return { stopped, notSent, unanswered, failed: sender.failure !== null };
}
