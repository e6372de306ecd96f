import { parentPort, workerData } from 'node:worker_threads';
import {
  createIdempotentProducer,
  createKafka,
  createLogger,
  errorMessage,
  isRetriable,
  isRetriesExhausted,
  outageOf,
  outageReason,
  type ConnectionConfig,
  type LogLevel,
} from '@cdc/core';
import { readChunk } from './chunk';

/**
 * One lane of the sender, in its own thread: an idempotent kafkajs producer (acks=all) that
 * sends the chunks the main thread builds, one at a time, in the order received. kafkajs's
 * request encoding costs more CPU than generating and Avro-encoding the events, so it runs
 * beside the main thread instead of after it.
 */
export interface LaneWorkerData {
  connection: ConnectionConfig;
  topic: string;
  logLevel: LogLevel;
  requestTimeoutMs: number;
  /** A send failing on an outage is retried for this long (null: until the lane is closed). */
  maxOutageMs: number | null;
}

export type ToLane =
  { type: 'send'; id: number; buffer: ArrayBuffer; bounds: Int32Array; count: number } | { type: 'close' };

export type FromLane =
  | { type: 'ready' }
  | { type: 'acked'; id: number }
  | { type: 'failed'; id: number; error: string; retriable: boolean }
  /** A send failed on an outage and is being sent again (same producer, same sequence numbers). */
  | { type: 'retrying'; id: number; error: string }
  | { type: 'fatal'; error: string }
  | { type: 'closed' };

const port = parentPort!;
const data = workerData as LaneWorkerData;
const post = (m: FromLane): void => port.postMessage(m);

let current: number | null = null;
let lastRetryPost = 0;
// A connection failure kafkajs logs while sending is told to the main thread, which reports the
// outage once (core's outage tracker); kafkajs's own lines go to debug.
const kafka = createKafka(
  data.connection,
  createLogger('producer', data.logLevel, data.connection.logFormat),
  {
    connectionTimeoutMs: 3000,
    retries: 2,
    outages: {
      failed: (_dependency, err) => {
        if (current === null || Date.now() - lastRetryPost < 200) return;
        lastRetryPost = Date.now();
        post({ type: 'retrying', id: current, error: outageReason(err) });
      },
    },
  },
);

/**
 * kafkajs retries a send whose broker does not answer, but gives up when the whole cluster is
 * unreachable (its reconnect fails inside the retry). The lane then sends the same chunk again,
 * with the same producer, until it is acknowledged, the outage outlasts --max-outage, or the lane
 * is closed. That is exactly once: an idempotent kafkajs producer advances a partition's sequence
 * numbers only when a produce request succeeded, and rolls back all partitions of a request that
 * failed, so a chunk the broker wrote before the answer was lost carries the same sequence numbers
 * again and is acknowledged as a duplicate, never written twice. (With several brokers, one
 * send() can succeed on one broker and then lose the whole cluster before the others answer; a
 * resend would write the first broker's partitions again. Not possible with one broker, as on
 * the local stack; downstream, the aggregator's version rule ignores such a duplicate.)
 */
const producer = createIdempotentProducer(kafka, {
  allowAutoTopicCreation: false,
  retry: { initialRetryTime: 300, maxRetryTime: 1000, retries: 5 },
});
let closing = false;

let queue: Promise<void> = producer.connect().then(
  () => post({ type: 'ready' }),
  (err: unknown) => post({ type: 'fatal', error: errorMessage(err) }),
);

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function send(m: Extract<ToLane, { type: 'send' }>): Promise<void> {
  current = m.id;
  const messages = readChunk(m);
  let outageSince: number | null = null;
  try {
    for (;;) {
      try {
        await producer.send({ topic: data.topic, acks: -1, timeout: data.requestTimeoutMs, messages });
        post({ type: 'acked', id: m.id });
        return;
      } catch (err) {
        const retriable = isRetriesExhausted(err) || isRetriable(err) || outageOf(err) !== null;
        outageSince ??= Date.now();
        const outageMs = Date.now() - outageSince;
        const tooLong = data.maxOutageMs !== null && outageMs >= data.maxOutageMs;
        if (!retriable || closing || tooLong) {
          const why = tooLong
            ? ` (no answer for ${Math.round(outageMs / 1000)} s; --max-outage is ${Math.round(data.maxOutageMs! / 1000)} s)`
            : '';
          post({ type: 'failed', id: m.id, error: `${outageReason(err)}${why}`, retriable });
          return;
        }
        post({ type: 'retrying', id: m.id, error: outageReason(err) });
        await sleep(500);
      }
    }
  } finally {
    current = null;
  }
}

async function close(): Promise<void> {
  await producer.disconnect().catch(() => undefined);
  post({ type: 'closed' });
  port.close();
}

port.on('message', (m: ToLane) => {
  if (m.type === 'close') closing = true; // a send waiting out an outage gives up
  // Strictly one after another: two concurrent sends of an idempotent kafkajs producer can
  // reorder (or lose) records when one fails.
  queue = queue.then(() => (m.type === 'send' ? send(m) : close()));
});
