import { randomBytes } from 'node:crypto';
import { createKafka, type Logger } from '@cdc/core';
import type { AggregatorConfig } from '../config';

/**
 * The rebuild's Kafka edge: reads silver once, from each partition's earliest offset up to the
 * end offsets (last stable offsets, read committed) captured at start, with a throw-away
 * consumer group that is deleted afterwards. Every record's value goes to `handle`, which
 * returns undefined, or a promise when it must wait; an error it throws (or rejects with) ends
 * the read with that error. Bad data is not such an error: the rebuild counts and skips
 * undecodable records itself.
 */
export interface ReadProgress {
  /** Offsets covered so far (records, transaction markers included) out of `offsetsTotal`. */
  offsetsDone: number;
  offsetsTotal: number;
  /** Records read so far. */
  records: number;
}

export interface ReadResult {
  records: number;
  /** Next offset per partition at the time of reading: what the rebuilt database has applied. */
  endOffsets: Map<number, number>;
  /** From `started` to the consumer's group join. */
  joinMs: number;
  /** Offsets from the earliest to the end offsets, summed over partitions. */
  offsetsTotal: number;
}

export type RecordHandler = (
  value: Buffer | null,
  partition: number,
  offset: number,
) => Promise<void> | undefined;

const PROGRESS_EVERY_MS = 250;

export async function readSilverToEnd(
  config: AggregatorConfig,
  log: Logger,
  handle: RecordHandler,
  options: { started?: number; onProgress?: (p: ReadProgress) => void } = {},
): Promise<ReadResult> {
  const started = options.started ?? performance.now();
  const topic = config.topics.silver;
  const kafka = createKafka(config.connection, log);
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `${config.groupId}.rebuild.${randomBytes(4).toString('hex')}`;
  const end = new Map<number, number>();
  const position = new Map<number, number>();
  const low = new Map<number, number>();
  let total = 0;
  let records = 0;
  let joinMs = 0;
  try {
    for (const p of await admin.fetchTopicOffsets(topic)) {
      end.set(p.partition, Number(p.high));
      position.set(p.partition, Number(p.low));
      low.set(p.partition, Number(p.low));
      total += Number(p.high) - Number(p.low);
    }
    log.info({ topic, partitions: end.size, records: total }, 'reading silver');
    const covered = () => [...position].reduce((a, [p, at]) => a + at - (low.get(p) ?? 0), 0);
    const report = () => options.onProgress?.({ offsetsDone: covered(), offsetsTotal: total, records });
    report();
    const complete = () => [...end].every(([p, e]) => (position.get(p) ?? 0) >= e);
    if (complete()) return { records, endOffsets: end, joinMs, offsetsTotal: total };

    const consumer = kafka.consumer({
      groupId,
      sessionTimeout: config.sessionTimeoutMs,
      heartbeatInterval: config.heartbeatIntervalMs,
      maxBytes: config.fetchMaxBytes,
      maxBytesPerPartition: config.fetchMaxBytesPerPartition,
      readUncommitted: false,
    });
    let finished: () => void = () => undefined;
    let failed: (err: Error) => void = () => undefined;
    const whenDone = new Promise<void>((resolve, reject) => {
      finished = resolve;
      failed = reject;
    });
    let lastReport = 0;
    let broken = false;
    const advance = (partition: number, next: number) => {
      const e = end.get(partition) ?? 0;
      if (next > (position.get(partition) ?? 0)) position.set(partition, Math.min(next, e));
      if (complete()) finished();
    };
    consumer.on(consumer.events.GROUP_JOIN, () => {
      joinMs ||= performance.now() - started;
    });
    // A batch of transaction markers only: no eachBatch call, but the position moves on.
    consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
      if (e.payload.batchSize === 0) advance(e.payload.partition, Number(e.payload.lastOffset) + 1);
    });
    consumer.on(consumer.events.CRASH, (e) => {
      if (!e.payload.restart) failed(e.payload.error);
    });
    try {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          if (broken) return;
          const e = end.get(batch.partition) ?? 0;
          const from = position.get(batch.partition) ?? 0;
          try {
            for (const m of batch.messages) {
              const offset = Number(m.offset);
              if (offset >= e) break;
              if (offset < from) continue;
              records += 1;
              const waiting = handle(m.value, batch.partition, offset);
              if (waiting !== undefined) await waiting;
            }
          } catch (err) {
            // Never thrown to kafkajs (it would restart the consumer on the same offset).
            broken = true;
            failed(err as Error);
            return;
          }
          const now = Date.now();
          if (now - lastReport >= PROGRESS_EVERY_MS) {
            lastReport = now;
            report();
          }
          advance(batch.partition, Number(batch.lastOffset()) + 1);
        },
      });
      await whenDone;
    } finally {
      await consumer.disconnect();
    }
    report();
    return { records, endOffsets: end, joinMs, offsetsTotal: total };
  } finally {
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
}
