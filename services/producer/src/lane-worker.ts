import { parentPort, workerData } from 'node:worker_threads';
import { createKafka, createLogger, errorMessage, type ConnectionConfig, type LogLevel } from '@cdc/core';
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
}

export type ToLane =
  { type: 'send'; id: number; buffer: ArrayBuffer; bounds: Int32Array; count: number } | { type: 'close' };

export type FromLane =
  | { type: 'ready' }
  | { type: 'acked'; id: number }
  | { type: 'failed'; id: number; error: string; retriable: boolean }
  | { type: 'fatal'; error: string }
  | { type: 'closed' };

const port = parentPort!;
const data = workerData as LaneWorkerData;
const post = (m: FromLane): void => port.postMessage(m);

const kafka = createKafka(data.connection, createLogger('producer', data.logLevel), {
  connectionTimeoutMs: 3000,
  retries: 2,
});
const producer = kafka.producer({
  idempotent: true,
  maxInFlightRequests: 1,
  allowAutoTopicCreation: false,
  // Bounded (about 35 s of retrying): a broker gone for longer fails the run, which then
  // stops; with the default (retry forever) a dead broker would hang it.
  retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 5000 },
});

let queue: Promise<void> = producer.connect().then(
  () => post({ type: 'ready' }),
  (err: unknown) => post({ type: 'fatal', error: errorMessage(err) }),
);

async function send(m: Extract<ToLane, { type: 'send' }>): Promise<void> {
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
      name === 'KafkaJSNumberOfRetriesExceeded' || (err as { retriable?: boolean }).retriable === true;
    post({ type: 'failed', id: m.id, error: errorMessage(err), retriable });
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
