import { randomBytes } from 'node:crypto';
import type { Admin, Kafka, KafkaMessage } from 'kafkajs';
import { errorMessage, UnavailableError } from '../errors';

/**
 * Reading fixed offset ranges of a topic, once: a throw-away consumer group (deleted afterwards)
 * that seeks each partition to its range's start, read committed, until every partition's
 * position reaches its range's end. Records outside the ranges are never handed on. kafkajs has
 * no `assign()`, so a group it is; a seek right after `run()` applies to the first fetch (kafkajs
 * keeps it until then), which is faster than `admin.setOffsets` (a group join and a fetch of its own).
 */
export interface OffsetRange {
  partition: number;
  start: number;
  /** Exclusive. */
  end: number;
}

export type RangeHandler = (partition: number, messages: KafkaMessage[]) => void | Promise<void>;

export async function readRanges(o: {
  kafka: Kafka;
  admin: Admin;
  topic: string;
  ranges: OffsetRange[];
  groupPrefix: string;
  handle: RangeHandler;
  maxBytesPerPartition?: number;
}): Promise<void> {
  const todo = o.ranges.filter((r) => r.end > r.start);
  if (todo.length === 0) return;
  const groupId = `${o.groupPrefix}.read.${randomBytes(4).toString('hex')}`;
  const ranges = new Map(todo.map((r) => [r.partition, r]));
  const position = new Map(todo.map((r) => [r.partition, r.start]));
  const complete = (): boolean => todo.every((r) => (position.get(r.partition) ?? 0) >= r.end);
  let finished: () => void = () => undefined;
  let failed: (err: Error) => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => {
    finished = resolve;
    failed = reject;
  });
  const advance = (partition: number, next: number): void => {
    if (next > (position.get(partition) ?? 0)) position.set(partition, next);
    if (complete()) finished();
  };
  const consumer = o.kafka.consumer({
    groupId,
    readUncommitted: false,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: 200,
    maxBytesPerPartition: o.maxBytesPerPartition ?? 4 * 1024 * 1024,
  });
  let broken = false;
  try {
    // A batch of transaction markers only: no eachBatch call, but the position moves on.
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      if (payload.batchSize === 0) advance(payload.partition, Number(payload.lastOffset) + 1);
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) failed(payload.error);
    });
    await consumer.connect();
    await consumer.subscribe({ topic: o.topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async (payload) => {
        const { batch } = payload;
        const pause = () => payload.pause();
        const r = ranges.get(batch.partition);
        if (broken || !r) return;
        const from = position.get(batch.partition) ?? r.start;
        const messages = batch.messages.filter((m) => {
          const offset = Number(m.offset);
          return offset >= from && offset < r.end;
        });
        try {
          if (messages.length > 0) await o.handle(batch.partition, messages);
        } catch (err) {
          // Never thrown to kafkajs (it would restart the consumer on the same offset).
          broken = true;
          failed(err as Error);
          return;
        }
        advance(batch.partition, Number(batch.lastOffset()) + 1);
        if ((position.get(batch.partition) ?? 0) >= r.end) pause();
      },
    });
    for (const r of todo) consumer.seek({ topic: o.topic, partition: r.partition, offset: String(r.start) });
    await done;
  } finally {
    await consumer.disconnect();
    await o.admin.deleteGroups([groupId]).catch(() => undefined);
  }
}

/** What the broker no longer holds of a topic: offsets deleted (retention, deleteRecords) per partition. */
export interface DeletedHistory {
  /** Offsets before each partition's earliest, summed. */
  offsetsGone: number;
  /** The oldest record timestamp still held (epoch ms); read only when offsets are gone, else null. */
  oldestRemainingMs: number | null;
  partitions: { partition: number; earliest: number; end: number; earliestTimestampMs: number | null }[];
}

/** The offsets deleted at the head of `topic`, and (when some are) the oldest record time left. */
export async function deletedHistory(
  kafka: Kafka,
  admin: Admin,
  topic: string,
  groupPrefix: string,
): Promise<DeletedHistory> {
  const offsets = await admin.fetchTopicOffsets(topic);
  const partitions = offsets
    .map((p) => ({
      partition: p.partition,
      earliest: Number(p.low),
      end: Number(p.high),
      earliestTimestampMs: null as number | null,
    }))
    .sort((a, b) => a.partition - b.partition);
  const offsetsGone = partitions.reduce((sum, p) => sum + p.earliest, 0);
  if (offsetsGone === 0) return { offsetsGone, oldestRemainingMs: null, partitions };
  const byPartition = new Map(partitions.map((p) => [p.partition, p]));
  try {
    await readRanges({
      kafka,
      admin,
      topic,
      groupPrefix,
      ranges: partitions.map((p) => ({
        partition: p.partition,
        start: p.earliest,
        // A few offsets: the earliest may be a transaction marker rather than a record.
        end: Math.min(p.end, p.earliest + 100),
      })),
      handle: (partition, messages) => {
        const p = byPartition.get(partition);
        if (p && p.earliestTimestampMs === null && messages[0])
          p.earliestTimestampMs = Number(messages[0].timestamp);
      },
      maxBytesPerPartition: 64 * 1024,
    });
  } catch (err) {
    throw new UnavailableError(
      'broker',
      `could not read the earliest records of ${topic}: ${errorMessage(err)}`,
      err,
    );
  }
  const times = partitions.map((p) => p.earliestTimestampMs).filter((t): t is number => t !== null);
  return {
    offsetsGone,
    oldestRemainingMs: times.length ? Math.min(...times) : null,
    partitions,
  };
}
