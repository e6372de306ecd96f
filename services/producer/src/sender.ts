import { Partitioners, type Kafka, type Message, type PartitionMetadata, type Producer } from 'kafkajs';
import type { Logger } from '@cdc/core';

/**
 * The Kafka edge: idempotent producers, acks=all, many messages per request.
 *
 * kafkajs 2.2.4 and idempotence: an idempotent producer serialises its produce requests per
 * broker behind a lock (so one request per broker is on the wire anyway), and when a request
 * fails it rolls its sequence numbers back — if another send of the same producer was queued
 * behind it, that one takes the failed one's sequence numbers and the retry lands after it
 * (reordered), or, when the failed batch had in fact been written, is taken for its duplicate
 * and silently dropped. So each producer here has ONE send in flight; throughput comes from
 * large batches, from generating and encoding the next batch while one is in flight, and from
 * several producers (`lanes`), each owning a disjoint set of partitions: every booking stays on
 * one partition and one lane, so its changes stay in order.
 */
export interface SendCounts {
  /** Messages per kind index (see CHANGE_KINDS). */
  byKind: number[];
  total: number;
}

export interface SenderEvents {
  sent(c: SendCounts): void;
  acked(c: SendCounts): void;
  failed(c: SendCounts, err: Error): void;
}

export interface SenderOptions {
  kafka: Kafka;
  topic: string;
  partitions: PartitionMetadata[];
  lanes: number;
  batchSize: number;
  kinds: number;
  logger: Logger;
  events: SenderEvents;
  /** Per-request broker timeout. */
  requestTimeoutMs?: number;
}

export interface Sender {
  connect(): Promise<void>;
  /** Queues one message of kind `kind` (an index); `kick()` sends. */
  push(key: string, value: Buffer, kind: number): void;
  /** Starts sending on idle lanes that have queued messages. */
  kick(): void;
  /** Messages queued, not yet handed to Kafka. */
  readonly queued: number;
  /** Messages handed to Kafka and not yet acknowledged or failed. */
  readonly inFlight: number;
  /** The first send that failed (after kafkajs's retries); sending stops after it. */
  readonly failure: Error | null;
  /** Resolves when any send completes (or fails). */
  nextCompletion(): Promise<void>;
  /** Resolves when every queued message was sent and acknowledged, or sending stopped. */
  drained(): Promise<void>;
  /** Drops the queued messages (they were never sent); returns how many. */
  discard(): number;
  disconnect(): Promise<void>;
}

interface Chunk {
  messages: Message[];
  counts: number[];
}

interface Lane {
  producer: Producer;
  chunks: Chunk[];
  busy: boolean;
}

export function createSender(o: SenderOptions): Sender {
  const lanes: Lane[] = Array.from({ length: Math.max(1, Math.min(o.lanes, o.partitions.length)) }, () => ({
    producer: o.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // Bounded (about 35 s of retrying): a broker gone for longer fails the run, which then
      // stops; with the default (retry forever) a dead broker would hang it.
      retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 5000 },
    }),
    chunks: [],
    busy: false,
  }));
  const partitioner = Partitioners.DefaultPartitioner();
  const routed = lanes.length > 1;
  let queued = 0;
  let inFlight = 0;
  let failure: Error | null = null;
  let waiters: (() => void)[] = [];

  const notify = (): void => {
    const w = waiters;
    waiters = [];
    for (const resolve of w) resolve();
  };
  const counts = (c: number[]): SendCounts => ({ byKind: c, total: c.reduce((a, b) => a + b, 0) });

  function kick(): void {
    for (const lane of lanes) if (!lane.busy && lane.chunks.length > 0 && failure === null) void run(lane);
  }

  async function run(lane: Lane): Promise<void> {
    lane.busy = true;
    try {
      while (lane.chunks.length > 0 && failure === null) {
        const chunk = lane.chunks.shift()!;
        const n = chunk.messages.length;
        queued -= n;
        inFlight += n;
        o.events.sent(counts(chunk.counts));
        try {
          await lane.producer.send({
            topic: o.topic,
            acks: -1,
            timeout: o.requestTimeoutMs ?? 30_000,
            messages: chunk.messages,
          });
          inFlight -= n;
          o.events.acked(counts(chunk.counts));
        } catch (err) {
          inFlight -= n;
          const e = err instanceof Error ? err : new Error(String(err));
          failure ??= e;
          o.events.failed(counts(chunk.counts), e);
        }
        notify();
      }
    } finally {
      lane.busy = false;
      notify();
    }
  }

  return {
    async connect() {
      await Promise.all(lanes.map((l) => l.producer.connect()));
    },
    push(key, value, kind) {
      let lane = lanes[0]!;
      const message: Message = { key, value };
      if (routed) {
        const p = partitioner({ topic: o.topic, partitionMetadata: o.partitions, message });
        message.partition = p;
        lane = lanes[p % lanes.length]!;
      }
      let chunk = lane.chunks[lane.chunks.length - 1];
      if (chunk === undefined || chunk.messages.length >= o.batchSize) {
        chunk = { messages: [], counts: new Array<number>(o.kinds).fill(0) };
        lane.chunks.push(chunk);
      }
      chunk.messages.push(message);
      chunk.counts[kind]!++;
      queued++;
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
        if (!lanes.some((l) => l.busy)) return;
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
    discard() {
      let n = 0;
      for (const lane of lanes) {
        for (const c of lane.chunks) n += c.messages.length;
        lane.chunks = [];
      }
      queued -= n;
      return n;
    },
    async disconnect() {
      await Promise.all(lanes.map((l) => l.producer.disconnect().catch(() => undefined)));
    },
  };
}
