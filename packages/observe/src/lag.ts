import { groupCommits, lastStableOffsets, type OffsetsAdmin, type PartitionEnds } from '@cdc/core';

/**
 * Consumer lag: how many offsets of a topic a consumer group has still to read, per partition
 * and in total. The one implementation; the dashboard's health, the alerts probe, `cdc status`
 * and the benchmarks all count lag here.
 *
 * Which end lag counts to. A partition has two: the high watermark, the offset after its last
 * record whether its transaction is committed or not; and the last stable offset, which stops at
 * the first transaction still open (every record before it is committed or aborted for good).
 * kafkajs's admin lists offsets read committed, so the `high` it returns is the last stable
 * offset; the patched kafkajs's `admin({ readUncommitted: true })` lists high watermarks (core's
 * `highWatermarks`; DEVELOPERS.md and patches/ say more). Lag counts to the last stable offset:
 * every consumer of the pipeline reads committed, so records of a transaction still open are
 * not work it can do yet, and counting them would show lag behind every transactional producer
 * (the enricher writes silver and the dead letters in transactions) between its batches.
 *
 * Both ends count transaction markers: a committed transaction ends with a marker that takes an
 * offset but is no record. A group that read everything commits the offset after its last
 * record, which may be the marker's: `forgive` tolerates that many offsets per partition.
 */
export interface PartitionLag {
  partition: number;
  /** The next offset the group reads; null when it committed nothing on this partition. */
  committed: number | null;
  /** The partition's end (last stable offset). */
  end: number;
  /** Offsets still to read (from the partition's start when nothing was committed), never negative. */
  lag: number;
  /** The commit's metadata, null when none. */
  metadata: string | null;
}

export interface GroupLag {
  partitions: PartitionLag[];
  /** The sum over the partitions. */
  total: number;
  /** False when the group committed nothing on any partition (then `total` counts from the start). */
  committedAny: boolean;
}

/** The lag of a position (`committed`, by partition) against the partitions' ends. */
export function lagOf(
  ends: readonly PartitionEnds[],
  committed: ReadonlyMap<number, { offset: number | null; metadata?: string | null }>,
  forgive = 0,
): GroupLag {
  const partitions = ends.map(({ partition, low, high }): PartitionLag => {
    const c = committed.get(partition);
    const offset = c?.offset ?? null;
    return {
      partition,
      committed: offset,
      end: high,
      lag: Math.max(0, high - (offset ?? low) - forgive),
      metadata: c?.metadata ?? null,
    };
  });
  return {
    partitions,
    total: partitions.reduce((sum, p) => sum + p.lag, 0),
    committedAny: partitions.some((p) => p.committed !== null),
  };
}

/**
 * A group's lag on a topic, from its committed offsets. `ends` are the topic's last stable
 * offsets when the caller already has them (default: listed now).
 */
export async function groupLag(
  admin: OffsetsAdmin,
  groupId: string,
  topic: string,
  o: { ends?: readonly PartitionEnds[]; forgive?: number } = {},
): Promise<GroupLag> {
  const [ends, committed] = await Promise.all([
    o.ends ?? lastStableOffsets(admin, topic),
    groupCommits(admin, groupId, topic),
  ]);
  return lagOf(ends, committed, o.forgive);
}

/** The group's total lag, or null when it committed nothing on the topic (a group not started yet). */
export const committedLag = (lag: GroupLag): number | null => (lag.committedAny ? lag.total : null);
