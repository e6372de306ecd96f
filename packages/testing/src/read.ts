import {
  createControlClient,
  createDecoder,
  createRegistryClient,
  highWatermarks as coreHighWatermarks,
  lastStableOffsets,
  loadSchema,
  waitFor,
  type ControlClient,
  type EnrichedBookingChange,
  type KafkaMessage,
  type PartitionEnds,
} from '@cdc/core';
import { uniqueGroupId, type TestContext } from './context';

/**
 * Reading back what a test's pipeline wrote: whole topics up to their end, silver decoded, and
 * the control topic's state.
 */

/**
 * A topic's end offsets as a read-committed consumer sees them now: partition → last stable
 * offset. On a topic without open transactions that is the high watermark; an open transaction
 * holds it at the transaction's first record (see `highWatermarks`).
 */
export async function endOffsets(ctx: TestContext, topic: string): Promise<Map<number, number>> {
  return byPartition(await lastStableOffsets(ctx.admin, topic));
}

/**
 * A topic's high watermarks now: partition → offset after its last record, committed, aborted or
 * still in an open transaction. A read-committed reader that reaches them has seen the outcome of
 * every transaction written so far (the broker aborts one whose producer died when its timeout
 * passes). Core's `highWatermarks`, as a map.
 */
export async function highWatermarks(ctx: TestContext, topic: string): Promise<Map<number, number>> {
  return byPartition(await coreHighWatermarks(ctx.kafka, topic));
}

const byPartition = (ends: readonly PartitionEnds[]): Map<number, number> =>
  new Map(ends.map((p) => [p.partition, p.high]));

export type MessageIn = KafkaMessage & { partition: number };

/**
 * Reads a whole topic, read committed by default, up to its high watermarks now: returns when
 * every partition's position reached them (so no record, and no duplicate, is missed). With an
 * open transaction on the topic, this waits until the transaction ends: read up to the last stable
 * offset instead, it would miss every record committed after the open transaction began (an
 * instance killed mid-transaction leaves one open until the broker aborts it).
 */
export async function readToEnd(
  ctx: TestContext,
  topic: string,
  options: { timeoutMs?: number; isolation?: 'read_committed' | 'read_uncommitted' } = {},
): Promise<MessageIn[]> {
  const ends = await highWatermarks(ctx, topic);
  const positions = new Map<number, number>();
  const messages: MessageIn[] = [];
  const consumer = ctx.kafka.consumer({
    groupId: uniqueGroupId('read-to-end'),
    readUncommitted: options.isolation === 'read_uncommitted',
    maxWaitTimeInMs: 200,
  });
  await consumer.connect();
  try {
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      positions.set(payload.partition, Number(payload.lastOffset) + 1);
    });
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: ({ message, partition }) => {
        messages.push({ ...message, partition });
        return Promise.resolve();
      },
    });
    await waitFor(() => [...ends].every(([p, end]) => end === 0 || (positions.get(p) ?? 0) >= end), {
      timeoutMs: options.timeoutMs ?? 60_000,
      what: `reading ${topic} to its end`,
    });
    return messages;
  } finally {
    await consumer.disconnect();
  }
}

/** Decodes silver records (EnrichedBookingChange), in the order given. */
export async function decodeSilver(
  ctx: TestContext,
  messages: readonly KafkaMessage[],
): Promise<EnrichedBookingChange[]> {
  const decoder = createDecoder<EnrichedBookingChange>(
    createRegistryClient(ctx.connection),
    loadSchema('EnrichedBookingChange').type,
  );
  const out: EnrichedBookingChange[] = [];
  for (const m of messages) out.push(await decoder.decode(m.value));
  return out;
}

/** The test's whole silver topic, decoded (read committed, up to its end now). */
export async function readSilver(ctx: TestContext): Promise<EnrichedBookingChange[]> {
  return decodeSilver(ctx, await readToEnd(ctx, ctx.topics.silver));
}

/**
 * A client of the test's control topic, closed by `ctx.cleanup()`. Its reading group's id starts
 * with `<topic prefix>test`, so the pipeline's own groups can be told apart.
 */
export function testControlClient(ctx: TestContext): ControlClient {
  return ctx.track(
    createControlClient({
      kafka: ctx.kafka,
      registry: createRegistryClient(ctx.connection),
      topic: ctx.topics.control,
      logger: ctx.logger,
      groupPrefix: `${ctx.connection.topicPrefix}test`,
      maxWaitMs: 100,
    }),
  );
}
