import { positionOf, readDeadLetters, withAdmin, type DeadLetterEntry, type Kafka } from '@cdc/core';

/**
 * The dead letters behind the pipeline panel's count, for GET /api/dead-letters: the whole
 * dead-letter topic read (a small topic by nature) at most once per `maxAgeMs`, concurrent
 * requests sharing one read. Newest first; original bytes are not served (`cdc dlq show` has them).
 */
export interface DeadLetterRow {
  position: string;
  time: number;
  error_code: string;
  error_message: string;
  source_topic: string;
  source_partition: number;
  source_offset: string;
  size: number;
  key: string | null;
  replay_of: string | null;
}

export interface DeadLetterList {
  total: number;
  read_at: number;
  dead_letters: DeadLetterRow[];
}

/** `readAfter`: a read older than this time (ms) is not used (default: one at most `maxAgeMs` old). */
export type DeadLetterSource = (q: {
  code?: string;
  limit: number;
  readAfter?: number;
}) => Promise<DeadLetterList>;

export const toRow = (e: DeadLetterEntry): DeadLetterRow => ({
  position: positionOf(e),
  time: e.timestampMs,
  error_code: e.errorCode,
  error_message: e.errorMessage,
  source_topic: e.source.topic,
  source_partition: e.source.partition,
  source_offset: e.source.offset,
  size: e.size,
  key: e.key,
  replay_of: e.replayOf,
});

/** Same time: the later offset first (within a partition, the later write). */
const newerOffset = (a: DeadLetterRow, b: DeadLetterRow): number =>
  Number(b.position.split('/')[1]) - Number(a.position.split('/')[1]);

export function createDeadLetterSource(o: {
  kafka: Kafka;
  topic: string;
  groupPrefix: string;
  maxAgeMs?: number;
}): DeadLetterSource {
  let cached: { at: number; rows: DeadLetterRow[] } | null = null;
  let reading: Promise<{ at: number; rows: DeadLetterRow[] }> | null = null;
  const read = async () => {
    const at = Date.now();
    const entries = await withAdmin(o.kafka, async (admin) =>
      (await admin.listTopics()).includes(o.topic)
        ? readDeadLetters({ kafka: o.kafka, admin, topic: o.topic, groupPrefix: o.groupPrefix })
        : [],
    );
    return { at, rows: entries.map(toRow).sort((a, b) => b.time - a.time || newerOffset(a, b)) };
  };
  return async ({ code, limit, readAfter }) => {
    const stale = (c: { at: number }) =>
      Date.now() - c.at > (o.maxAgeMs ?? 5000) || (readAfter !== undefined && c.at < readAfter);
    if (cached === null || stale(cached)) {
      reading ??= read().finally(() => (reading = null));
      cached = await reading;
      // A read that was already under way may have started before `readAfter`: read once more.
      if (stale(cached)) cached = await (reading ??= read().finally(() => (reading = null)));
    }
    const rows = code === undefined ? cached.rows : cached.rows.filter((r) => r.error_code === code);
    return { total: rows.length, read_at: cached.at, dead_letters: rows.slice(0, limit) };
  };
}
