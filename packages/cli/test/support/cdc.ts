import type { KafkaMessage } from 'kafkajs';
import {
  createDecoder,
  createRegistryClient,
  loadSchema,
  waitFor,
  type EnrichedBookingChange,
} from '@cdc/core';
import { uniqueGroupId, type TestContext } from '@cdc/testing';

/** What the CLI tests read back: the control topic, end offsets, consumer groups, silver. */
/** End offsets of a topic, partition → high watermark. */
export async function endOffsets(ctx: TestContext, topic: string): Promise<Record<number, number>> {
  return Object.fromEntries(
    (await ctx.admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.high)]),
  );
}

/** The consumer groups of this test's prefix (the throw-away readers of the test itself excluded). */
export async function groupsOf(ctx: TestContext): Promise<string[]> {
  const { groups } = await ctx.admin.listGroups();
  return groups
    .map((g) => g.groupId)
    .filter(
      (g) => g.startsWith(ctx.connection.topicPrefix) && !g.startsWith(`${ctx.connection.topicPrefix}test`),
    )
    .sort();
}

/** A whole topic read committed up to its end offsets as of the call. */
export async function readToEnd(ctx: TestContext, topic: string): Promise<KafkaMessage[]> {
  return readToEndWithPartitions(ctx, topic);
}

export async function readToEndWithPartitions(
  ctx: TestContext,
  topic: string,
): Promise<(KafkaMessage & { partition: number })[]> {
  const ends = await endOffsets(ctx, topic);
  const positions = new Map<number, number>();
  const messages: (KafkaMessage & { partition: number })[] = [];
  const consumer = ctx.kafka.consumer({ groupId: uniqueGroupId('read'), maxWaitTimeInMs: 200 });
  await consumer.connect();
  try {
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) =>
      positions.set(payload.partition, Number(payload.lastOffset) + 1),
    );
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message, partition }) => {
        messages.push({ ...message, partition });
      },
    });
    await waitFor(
      () => Object.entries(ends).every(([p, end]) => end === 0 || (positions.get(Number(p)) ?? 0) >= end),
      {
        timeoutMs: 60_000,
        what: `reading ${topic} to its end`,
      },
    );
    return messages;
  } finally {
    await consumer.disconnect();
  }
}

export async function readSilver(ctx: TestContext): Promise<EnrichedBookingChange[]> {
  const decoder = createDecoder<EnrichedBookingChange>(
    createRegistryClient(ctx.connection.registryUrl),
    loadSchema('EnrichedBookingChange').type,
  );
  const out: EnrichedBookingChange[] = [];
  for (const m of await readToEnd(ctx, ctx.topics.silver)) out.push(await decoder.decode(m.value));
  return out;
}
