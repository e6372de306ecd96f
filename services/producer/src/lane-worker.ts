import { parentPort, workerData } from 'node:worker_threads';
import {
  createKafka,
  createLogger,
  errorMessage,
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
const kafka = createKafka(data.connection, createLogger('producer', data.logLevel), {
  connectionTimeoutMs: 3000,
  retries: 2,
  outages: {
    failed: (_dependency, err) => {
      if (current === null || Date.now() - lastRetryPost < 200) return;
      lastRetryPost = Date.now();
      post({ type: 'retrying', id: current, error: outageReason(err) });
    },
  },
});

/**
 * kafkajs retries a send whose broker does not answer; each retry of an idempotent producer keeps
 * the sequence numbers of the records not yet acknowledged (per broker), so a batch the broker
 * had written before the answer was lost is recognised as a duplicate and acknowledged once,
 * never written twice. That holds only inside one send() call (a new call after a give-up would
 * number records again on brokers that had acknowledged): so the outage is waited out inside
 * it, retrying about once a second for as long as --max-outage allows (a run until Ctrl-C: until
 * the lane is closed).
 */
const RETRY_MAX_MS = 1000;
const producer = kafka.producer({
  idempotent: true,
  maxInFlightRequests: 1,
  allowAutoTopicCreation: false,
  retry: {
    initialRetryTime: 300,
    maxRetryTime: RETRY_MAX_MS,
    retries:
      data.maxOutageMs === null ? Number.MAX_SAFE_INTEGER : Math.ceil(data.maxOutageMs / RETRY_MAX_MS) + 3,
  },
});

let queue: Promise<void> = producer.connect().then(
  () => post({ type: 'ready' }),
  (err: unknown) => post({ type: 'fatal', error: errorMessage(err) }),
);

async function send(m: Extract<ToLane, { type: 'send' }>): Promise<void> {
  current = m.id;
  const started = Date.now();
  try {
    await producer.send({
      topic: data.topic,
      acks: -1,
      timeout: data.requestTimeoutMs,
      messages: readChunk(m),
    });
    post({ type: 'acked', id: m.id });
  } catch (err) {
    // kafkajs gives up on retriable errors after its retries (KafkaJSNumberOfRetriesExceeded).
    const name = err instanceof Error ? err.name : '';
    const retriable =
      name === 'KafkaJSNumberOfRetriesExceeded' ||
      (err as { retriable?: boolean }).retriable === true ||
      outageOf(err) !== null;
    const why =
      retriable && data.maxOutageMs !== null
        ? ` (no answer for ${Math.round((Date.now() - started) / 1000)} s; --max-outage is ${Math.round(data.maxOutageMs / 1000)} s)`
        : '';
    post({ type: 'failed', id: m.id, error: `${outageReason(err)}${why}`, retriable });
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
  // Strictly one after another: two concurrent sends of an idempotent kafkajs producer can
  // reorder (or lose) records when one fails.
  queue = queue.then(() => (m.type === 'send' ? send(m) : close()));
});
