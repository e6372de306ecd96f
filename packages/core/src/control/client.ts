import { randomBytes } from 'node:crypto';
import type { Admin, Consumer, Kafka, Producer } from '../kafka/types';
import { createDecoder, createEncoder, type Encoder } from '../codec/codec';
import type { RegistryClient } from '../codec/registry';
import { loadSchema } from '../codec/schemas';
import { errorMessage, UnavailableError } from '../errors';
import type { Logger } from '../logger';
import { valueSubject } from '../topics';
import type { PipelineControl } from '../types';
import { sleep, waitFor } from '../wait';
import { createPipelineConsumer } from '../kafka/consumer';
import { isRetriable } from '../kafka/errors';
import { createIdempotentProducer } from '../kafka/producer';
import type { OutageTracker } from '../lifecycle/outage';
import { applyControl, emptyControlState, type ControlRecord, type ControlState } from './state';

/**
 * The Kafka edge of the control topic. One consumer (its own throw-away group, no committed
 * offsets, deleted on close) reads the topic from the beginning and keeps reading: `state` is
 * everything read so far, `listen` hears every record as it arrives, and `read()` waits until
 * the consumer has reached the end offsets the topic has *now* (so a record written before the
 * call is in the state it returns). Writes go through an idempotent producer, acks=all.
 */
export interface ControlClient {
  readonly topic: string;
  /** The state as far as read (empty until the first `read()`). */
  readonly state: ControlState;
  /** Reads the topic up to its end offsets as of this call; starts the consumer on the first call. */
  read(options?: { timeoutMs?: number }): Promise<ControlState>;
  /** Calls `listener` for every record read from now on, in order (after it was applied to `state`). */
  listen(listener: (record: ControlRecord) => void): void;
  /** Writes records in one request (one partition: appended together, in order). */
  write(records: ControlRecord[]): Promise<void>;
  close(): Promise<void>;
}

export interface ControlClientOptions {
  kafka: Kafka;
  registry: RegistryClient;
  topic: string;
  logger: Logger;
  /** Consumer group prefix (a random suffix is added). */
  groupPrefix: string;
  /** Long-poll wait of the reading consumer: how fast a running reader sees a new record. Default 500 ms. */
  maxWaitMs?: number;
  /** Broker outages are reported here (one warning per outage). */
  outages?: OutageTracker;
  /** True once the process is stopping: a crashed reader is then not restarted. */
  stopping?: () => boolean;
}

export class ControlTopicError extends UnavailableError {
  constructor(message: string, cause?: unknown) {
    super('broker', message, cause);
  }
}

/**
 * The topic's end offsets, retrying what the broker calls retriable (NOT_LEADER_FOR_PARTITION
 * right after the topic was created, while KRaft hands out leadership), which kafkajs's admin
 * throws at once.
 */
async function endOffsetsOf(
  admin: Admin,
  topic: string,
  timeoutMs: number,
): Promise<Awaited<ReturnType<Admin['fetchTopicOffsets']>>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await admin.fetchTopicOffsets(topic);
    } catch (err) {
      if (!isRetriable(err) || Date.now() >= deadline) throw err;
      await sleep(100);
    }
  }
}

export function createControlClient(o: ControlClientOptions): ControlClient {
  const log = o.logger.child({ component: 'control', topic: o.topic });
  const { text, type } = loadSchema('PipelineControl');
  const decoder = createDecoder<PipelineControl>(o.registry, type);
  const state = emptyControlState();
  const listeners: ((r: ControlRecord) => void)[] = [];
  const positions = new Map<number, number>();
  const groupId = `${o.groupPrefix}.control.${randomBytes(4).toString('hex')}`;
  let admin: Admin | null = null;
  let consumer: Consumer | null = null;
  let producer: Producer | null = null;
  let encoder: Promise<Encoder<PipelineControl>> | null = null;
  let starting: Promise<void> | null = null;
  let failure: Error | null = null;
  let closed = false;

  const connectedAdmin = async (): Promise<Admin> => {
    if (!admin) {
      const a = o.kafka.admin();
      await a.connect();
      admin = a;
    }
    return admin;
  };

  const start = async (): Promise<void> => {
    const c = createPipelineConsumer(o.kafka, {
      logger: o.logger,
      outages: o.outages,
      stopping: () => closed || (o.stopping?.() ?? false),
      onFatal: (err) => (failure = err),
      groupId,
      readUncommitted: false,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: o.maxWaitMs ?? 500,
    });
    consumer = c;
    c.on(c.events.END_BATCH_PROCESS, ({ payload }) => {
      if (payload.topic === o.topic) {
        const next = Number(payload.lastOffset) + 1;
        positions.set(payload.partition, Math.max(positions.get(payload.partition) ?? 0, next));
      }
    });
    await c.connect();
    await c.subscribe({ topic: o.topic, fromBeginning: true });
    await c.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          const key = m.key?.toString() ?? '';
          let value: PipelineControl | null = null;
          if (m.value !== null) {
            try {
              value = await decoder.decode(m.value);
            } catch (err) {
              // Never thrown to kafkajs (it would restart on the same offset forever).
              log.warn({ key, offset: m.offset, err }, 'unreadable control record skipped');
              continue;
            }
          }
          applyControl(state, key, value);
          for (const listener of listeners) {
            try {
              listener({ key, value });
            } catch (err) {
              log.error({ key, err }, 'control listener failed');
            }
          }
        }
      },
    });
  };

  const client: ControlClient = {
    topic: o.topic,
    state,
    async read(options = {}) {
      if (closed) throw new ControlTopicError('the control client is closed');
      starting ??= start().catch(async (err: unknown) => {
        // Not started (the broker was unreachable): the next read starts it again.
        starting = null;
        const c = consumer;
        consumer = null;
        await c?.disconnect().catch(() => undefined);
        throw err;
      });
      await starting;
      const ends = await endOffsetsOf(await connectedAdmin(), o.topic, options.timeoutMs ?? 30_000);
      try {
        await waitFor(
          () => {
            if (failure) throw failure;
            // Closed meanwhile (the process stops): no more records will be read.
            if (closed) throw new ControlTopicError('the control client was closed');
            return ends.every(
              (p) => Number(p.high) === 0 || (positions.get(p.partition) ?? 0) >= Number(p.high),
            );
          },
          { timeoutMs: options.timeoutMs ?? 30_000, intervalMs: 20, what: `the control topic ${o.topic}` },
        );
      } catch (err) {
        throw new ControlTopicError(`could not read the control topic: ${errorMessage(err)}`, err);
      }
      return state;
    },
    listen(listener) {
      listeners.push(listener);
    },
    async write(records) {
      if (closed) throw new ControlTopicError('the control client is closed');
      encoder ??= createEncoder<PipelineControl>(o.registry, valueSubject(o.topic), text, type);
      const enc = await encoder.catch((err: unknown) => {
        encoder = null;
        throw err;
      });
      if (!producer) {
        const p = createIdempotentProducer(o.kafka, { allowAutoTopicCreation: false });
        await p.connect();
        producer = p;
      }
      await producer.send({
        topic: o.topic,
        acks: -1,
        messages: records.map((r) => ({ key: r.key, value: r.value === null ? null : enc.encode(r.value) })),
      });
    },
    async close() {
      closed = true;
      await consumer?.disconnect().catch(() => undefined);
      await producer?.disconnect().catch(() => undefined);
      if (consumer) {
        const a = await connectedAdmin().catch(() => null);
        await a?.deleteGroups([groupId]).catch(() => undefined);
      }
      await admin?.disconnect().catch(() => undefined);
      consumer = producer = admin = null;
    },
  };
  return client;
}
