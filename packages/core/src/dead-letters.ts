import type { Admin, IHeaders, Kafka, KafkaMessage } from './kafka/types';
import { UsageError } from './errors';
import { readRanges } from './kafka/read-range';

/**
 * Dead letters, as the enricher writes them and as tools read them back (`cdc dlq`, the
 * dashboard's dead-letter page). A dead letter is the original record (key, value and headers,
 * byte for byte) plus headers that say why it could not be enriched and where it came from.
 * Header values are UTF-8 text.
 */
export const DLQ_HEADERS = {
  errorCode: 'dlq.error.code',
  errorMessage: 'dlq.error.message',
  sourceTopic: 'dlq.source.topic',
  sourcePartition: 'dlq.source.partition',
  sourceOffset: 'dlq.source.offset',
  sourceTimestamp: 'dlq.source.timestamp',
  /** Only on a dead letter whose value had to be cut to fit the broker's limit: the original length. */
  valueTruncatedFrom: 'dlq.value.truncated.from',
} as const;

/**
 * On a record `cdc dlq replay` re-sent to bronze: `<partition>/<offset>` of its dead letter (and,
 * copied by the enricher, on the dead letter of a replay that failed again).
 */
export const REPLAY_OF_HEADER = 'dlq.replay.of';

export interface DeadLetterEntry {
  partition: number;
  offset: string;
  /** When it was dead-lettered (the dead letter's timestamp), ms. */
  timestampMs: number;
  key: string | null;
  value: Buffer | null;
  /** Bytes of the original value (before any cut). */
  size: number;
  truncated: boolean;
  errorCode: string;
  errorMessage: string;
  source: { topic: string; partition: number; offset: string };
  /** `<partition>/<offset>` of the dead letter this one repeats (a replay that failed again), else null. */
  replayOf: string | null;
  /** Every header, as text. */
  headers: Record<string, string>;
}

export const positionOf = (e: Pick<DeadLetterEntry, 'partition' | 'offset'>): string =>
  `${e.partition}/${e.offset}`;

const text = (v: IHeaders[string]): string => {
  const one = Array.isArray(v) ? v[0] : v;
  return one === undefined ? '' : one.toString();
};

export function toDeadLetterEntry(partition: number, m: KafkaMessage): DeadLetterEntry {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.headers ?? {})) headers[k] = text(v);
  const truncatedFrom = headers[DLQ_HEADERS.valueTruncatedFrom];
  return {
    partition,
    offset: m.offset,
    timestampMs: Number(m.timestamp),
    key: m.key?.toString() ?? null,
    value: m.value,
    size: truncatedFrom !== undefined ? Number(truncatedFrom) : (m.value?.length ?? 0),
    truncated: truncatedFrom !== undefined,
    errorCode: headers[DLQ_HEADERS.errorCode] ?? '',
    errorMessage: headers[DLQ_HEADERS.errorMessage] ?? '',
    source: {
      topic: headers[DLQ_HEADERS.sourceTopic] ?? '',
      partition: Number(headers[DLQ_HEADERS.sourcePartition] ?? -1),
      offset: headers[DLQ_HEADERS.sourceOffset] ?? '',
    },
    replayOf: headers[REPLAY_OF_HEADER] ?? null,
    headers,
  };
}

export interface DeadLetterFilter {
  codes?: readonly string[];
  sinceMs?: number;
  untilMs?: number;
  /** Exact positions (`<partition>/<offset>`); when given, only these. */
  positions?: readonly string[];
}

export function filterDeadLetters(
  entries: readonly DeadLetterEntry[],
  f: DeadLetterFilter,
): DeadLetterEntry[] {
  const codes = f.codes && f.codes.length > 0 ? new Set(f.codes.map((c) => c.toUpperCase())) : null;
  const positions = f.positions && f.positions.length > 0 ? new Set(f.positions) : null;
  return entries.filter(
    (e) =>
      (codes === null || codes.has(e.errorCode)) &&
      (f.sinceMs === undefined || e.timestampMs >= f.sinceMs) &&
      (f.untilMs === undefined || e.timestampMs < f.untilMs) &&
      (positions === null || positions.has(positionOf(e))),
  );
}

/** `3/42` or `42` (partition 0) → `3/42`; a UsageError otherwise. */
export function parsePosition(s: string): string {
  const m = /^(?:(\d+)\/)?(\d+)$/.exec(s.trim());
  if (!m)
    throw new UsageError(
      `a dead letter is named <partition>/<offset> (or <offset> on partition 0), got '${s}'`,
    );
  return `${Number(m[1] ?? 0)}/${m[2]}`;
}

const wholeTopic = async (admin: Admin, topic: string) =>
  (await admin.fetchTopicOffsets(topic)).map((p) => ({
    partition: p.partition,
    start: Number(p.low),
    end: Number(p.high),
  }));

/**
 * Every dead letter the topic holds now, oldest first per partition (the topic is small by nature).
 * `narrow` (a filter's time and positions) skips what it cannot select: records written before
 * `sinceMs` (found by timestamp), partitions and offsets around no wanted position. It only
 * narrows the read: apply `filterDeadLetters` for the exact selection.
 */
export async function readDeadLetters(o: {
  kafka: Kafka;
  admin: Admin;
  topic: string;
  groupPrefix: string;
  narrow?: Pick<DeadLetterFilter, 'sinceMs' | 'positions'>;
}): Promise<DeadLetterEntry[]> {
  const out: DeadLetterEntry[] = [];
  const ranges = await wholeTopic(o.admin, o.topic);
  const { sinceMs, positions = [] } = o.narrow ?? {};
  if (sinceMs !== undefined && sinceMs > 0) {
    const from = new Map(
      (await o.admin.fetchTopicOffsetsByTimestamp(o.topic, sinceMs)).map((p) => [
        p.partition,
        Number(p.offset),
      ]),
    );
    for (const r of ranges) r.start = Math.min(r.end, Math.max(r.start, from.get(r.partition) ?? r.start));
  }
  if (positions.length > 0) {
    const wanted = new Map<number, number[]>();
    for (const p of positions) {
      const [partition, offset] = p.split('/').map(Number) as [number, number];
      wanted.set(partition, [...(wanted.get(partition) ?? []), offset]);
    }
    for (const r of ranges) {
      const offsets = wanted.get(r.partition);
      if (offsets === undefined) r.end = r.start;
      else {
        r.start = Math.max(r.start, Math.min(...offsets));
        r.end = Math.max(r.start, Math.min(r.end, Math.max(...offsets) + 1));
      }
    }
  }
  await readRanges({
    ...o,
    ranges,
    handle: (partition, messages) => {
      for (const m of messages) out.push(toDeadLetterEntry(partition, m));
    },
  });
  return out.sort((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset));
}
