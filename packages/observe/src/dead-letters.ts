import { readDeadLetters, withAdmin, type PartitionEnds } from '@cdc/core';

/**
 * How many dead letters the dead-letter topic holds: records, not offsets. The enricher writes
 * dead letters in transactions, so the topic's offsets also count commit markers (and records of
 * aborted transactions); only reading the topic (read committed) counts the records. The topic
 * is small by nature, and it is read again only when its offsets moved since the last count.
 * Used by the dashboard's health, the alerts probe and `cdc status`.
 */
export type DeadLetterReader = () => Promise<number>;

/** Reads the whole topic to count its dead letters. */
export function readDeadLetterCount(o: {
  kafka: Parameters<typeof withAdmin>[0];
  topic: string;
  /** Prefix of the throw-away consumer group that reads the topic. */
  groupPrefix: string;
}): DeadLetterReader {
  return () =>
    withAdmin(
      o.kafka,
      async (admin) =>
        (await readDeadLetters({ kafka: o.kafka, admin, topic: o.topic, groupPrefix: o.groupPrefix })).length,
    );
}

/** Offsets in the topic: the count when nothing needs reading (an empty topic has no dead letter). */
const offsetsIn = (ends: readonly PartitionEnds[]): number => ends.reduce((s, p) => s + (p.high - p.low), 0);

export class DeadLetterCounter {
  /** The count and the offsets it was counted at. */
  private counted: { offsets: string; records: number } | null = null;

  /**
   * The dead letters in a topic whose offsets are `ends` now; `read` counts them, called only when
   * the offsets moved since the last count (it must read the topic as it is at `ends` or later).
   */
  async count(ends: readonly PartitionEnds[], read: DeadLetterReader): Promise<number> {
    if (offsetsIn(ends) === 0) return 0;
    const key = ends.map((p) => `${p.partition}:${p.low}-${p.high}`).join(',');
    if (this.counted?.offsets !== key) this.counted = { offsets: key, records: await read() };
    return this.counted.records;
  }
}
