import type { KafkaMessage } from 'kafkajs';
import {
  createDecoder,
  createRegistryClient,
  loadSchema,
  waitFor,
  type EnrichedBookingChange,
} from '@cdc/core';
import { startCdc, uniqueGroupId, type CdcProcess, type TestContext } from '@cdc/testing';

/** Sum of high watermarks of a topic, per partition. */
export async function endOffsets(ctx: TestContext, topic: string): Promise<Map<number, number>> {
  const offsets = await ctx.admin.fetchTopicOffsets(topic);
  return new Map(offsets.map((p) => [p.partition, Number(p.high)]));
}

/** Waits until the group has committed the end of every partition of `topic` (all input processed). */
export async function waitForGroupCaughtUp(
  ctx: TestContext,
  groupId: string,
  topic: string,
  timeoutMs: number,
): Promise<void> {
  const ends = await endOffsets(ctx, topic);
  await waitFor(
    async () => {
      const [t] = await ctx.admin.fetchOffsets({ groupId, topics: [topic] });
      const committed = new Map(t!.partitions.map((p) => [p.partition, Number(p.offset)]));
      return [...ends].every(([p, end]) => end === 0 || (committed.get(p) ?? -1) >= end);
    },
    { timeoutMs, intervalMs: 250, what: `group ${groupId} to commit the end of ${topic}` },
  );
}

/** Sum of the group's committed offsets on a topic (progress indicator). */
export async function committedSum(ctx: TestContext, groupId: string, topic: string): Promise<number> {
  const [t] = await ctx.admin.fetchOffsets({ groupId, topics: [topic] });
  return (t?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
}

/**
 * Reads a whole topic, read committed by default, up to the high watermarks it has now: returns
 * when every partition's position reached its end (so no record, and no duplicate, is missed).
 * With an open transaction on the topic, this waits until the transaction ends.
 */
export async function readTopicToEnd(
  ctx: TestContext,
  topic: string,
  options: { timeoutMs?: number; isolation?: 'read_committed' | 'read_uncommitted' } = {},
): Promise<(KafkaMessage & { partition: number })[]> {
  const ends = await endOffsets(ctx, topic);
  const positions = new Map<number, number>();
  const messages: (KafkaMessage & { partition: number })[] = [];
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
      eachMessage: async ({ message, partition }) => {
        messages.push({ ...message, partition });
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

/** Decodes silver records (EnrichedBookingChange). */
export async function decodeSilver(
  ctx: TestContext,
  messages: KafkaMessage[],
): Promise<EnrichedBookingChange[]> {
  const decoder = createDecoder<EnrichedBookingChange>(
    createRegistryClient(ctx.connection.registryUrl),
    loadSchema('EnrichedBookingChange').type,
  );
  const out: EnrichedBookingChange[] = [];
  for (const m of messages) out.push(await decoder.decode(m.value));
  return out;
}

/** The contract's version of a change: after.version, or before.version + 1 for a delete. */
export const changeVersion = (c: {
  before: { version: number } | null;
  after: { version: number } | null;
}): number => (c.after ? c.after.version : c.before!.version + 1);

/** Bookings whose changes are not in version order in `records` (log order): each booking's order must hold. */
export function outOfOrderBookings(records: EnrichedBookingChange[]): string[] {
  const last = new Map<string, number>();
  const bad = new Set<string>();
  for (const r of records) {
    const key = (r.after ?? r.before)!.booking_id;
    const version = changeVersion(r);
    const prev = last.get(key);
    if (prev !== undefined && version <= prev) bad.add(key);
    last.set(key, version);
  }
  return [...bad];
}

/** `node bin/cdc.js enrich` on the context's topics (from the built dist, as `cdc start` runs it). */
export function spawnEnricher(ctx: TestContext, env: Record<string, string>): CdcProcess {
  return ctx.track(
    startCdc(['enrich'], {
      connection: ctx.connection,
      env: { ENRICHER_OPS_PORT: '0', ...env },
      keepChars: 20_000,
    }),
  );
}
