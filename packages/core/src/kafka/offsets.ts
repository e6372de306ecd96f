import type { Admin, Kafka } from 'kafkajs';

/**
 * The offsets the broker lists for a topic and a consumer group, as plain numbers: the kafkajs
 * admin calls every observer of the pipeline makes. A partition has two ends, the high watermark
 * and the last stable offset; what sets them apart, and which one consumer lag counts to, is told
 * once, in @cdc/observe (lag.ts).
 */
export interface PartitionEnds {
  partition: number;
  /** The first offset the partition still holds (older ones were deleted by retention). */
  low: number;
  /** The end listed: the last stable offset (`lastStableOffsets`) or the high watermark (`highWatermarks`). */
  high: number;
}

/** A group's committed position on one partition. */
export interface CommittedOffset {
  /** The next offset the group reads; null when the group committed nothing there. */
  offset: number | null;
  /** The commit's metadata (see commitMetadata), null when none. */
  metadata: string | null;
}

/** What the offset calls need of an admin client (tests pass a fake). */
export type OffsetsAdmin = Pick<Admin, 'fetchTopicOffsets' | 'fetchOffsets'>;

const ends = async (admin: Pick<Admin, 'fetchTopicOffsets'>, topic: string): Promise<PartitionEnds[]> =>
  (await admin.fetchTopicOffsets(topic))
    .map((p) => ({ partition: p.partition, low: Number(p.low), high: Number(p.high) }))
    .sort((a, b) => a.partition - b.partition);

/**
 * Each partition's range up to its last stable offset, by partition: what a read-committed
 * consumer can read now. `admin` is an ordinary (read committed) admin client.
 */
export function lastStableOffsets(
  admin: Pick<Admin, 'fetchTopicOffsets'>,
  topic: string,
): Promise<PartitionEnds[]> {
  return ends(admin, topic);
}

/**
 * Each partition's range up to its high watermark, by partition: where a reader has seen every
 * transaction on the topic, open ones included. Uses an admin client of its own (read uncommitted).
 */
export async function highWatermarks(kafka: Kafka, topic: string): Promise<PartitionEnds[]> {
  const admin = kafka.admin({ readUncommitted: true });
  await admin.connect();
  try {
    return await ends(admin, topic);
  } finally {
    await admin.disconnect();
  }
}

/** A consumer group's commits on a topic, by partition, with their metadata (every partition the broker lists). */
export async function groupCommits(
  admin: Pick<Admin, 'fetchOffsets'>,
  groupId: string,
  topic: string,
): Promise<Map<number, CommittedOffset>> {
  const out = new Map<number, CommittedOffset>();
  for (const t of await admin.fetchOffsets({ groupId, topics: [topic] })) {
    for (const p of t.partitions) {
      const offset = Number(p.offset);
      out.set(p.partition, { offset: offset >= 0 ? offset : null, metadata: p.metadata ?? null });
    }
  }
  return out;
}

/** A consumer group's committed offsets on a topic (partitions without one left out). */
export async function committedOffsets(
  admin: Pick<Admin, 'fetchOffsets'>,
  groupId: string,
  topic: string,
): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  for (const [partition, c] of await groupCommits(admin, groupId, topic)) {
    if (c.offset !== null) out.set(partition, c.offset);
  }
  return out;
}
