import type { Admin, IHeaders, Kafka, KafkaMessage, Message } from 'kafkajs';
import { readRanges, UsageError } from '@cdc/core';
import { DLQ_HEADERS } from './dead-letter';

/**
 * Reading the dead-letter topic back, and re-driving dead letters to bronze (`cdc dlq`). The
 * pure parts (filters, the replay plan, the replayed record) are separate from the two reads
 * (the dead-letter topic; bronze's replay headers) so they are unit-tested without Kafka.
 *
 * Replay bookkeeping lives in bronze itself: a replayed record carries `dlq.replay.of:
 * <partition>/<offset>` of its dead letter, so "was this dead letter replayed?" is answered by
 * scanning bronze's headers — no second store to keep in step, and it survives any crash between
 * the send and a note about it. A record that fails again is dead-lettered again with that header
 * copied, so the new dead letter says which one it repeats; such repeats are never selected by
 * default (replaying twice changes nothing); `--force` re-drives originals already replayed.
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

export interface ReplayPlan {
  /** Dead letters to re-send, oldest first per partition. */
  replay: DeadLetterEntry[];
  /** Selected, already replayed (found in bronze's replay headers): skipped unless --force. */
  alreadyReplayed: DeadLetterEntry[];
  /** Selected, but themselves a failed replay of another dead letter: that one is the unit of replay. */
  repeats: DeadLetterEntry[];
  /** Selected, but their value was cut to fit the dead-letter topic: the original bytes are lost. */
  truncated: DeadLetterEntry[];
}

export function planReplay(
  selected: readonly DeadLetterEntry[],
  replayed: ReadonlySet<string>,
  o: { force: boolean },
): ReplayPlan {
  const plan: ReplayPlan = { replay: [], alreadyReplayed: [], repeats: [], truncated: [] };
  for (const e of selected) {
    if (e.truncated) plan.truncated.push(e);
    else if (e.replayOf !== null) plan.repeats.push(e);
    else if (replayed.has(positionOf(e)) && !o.force) plan.alreadyReplayed.push(e);
    else plan.replay.push(e);
  }
  return plan;
}

/** The bronze record of a replay: the original key, bytes and headers, and the link to its dead letter. */
export function replayMessage(e: DeadLetterEntry): Message {
  const headers: IHeaders = {};
  for (const [k, v] of Object.entries(e.headers)) if (!k.startsWith('dlq.')) headers[k] = v;
  headers[REPLAY_OF_HEADER] = positionOf(e);
  return { key: e.key, value: e.value, headers };
}

const wholeTopic = async (admin: Admin, topic: string) =>
  (await admin.fetchTopicOffsets(topic)).map((p) => ({
    partition: p.partition,
    start: Number(p.low),
    end: Number(p.high),
  }));

/** Every dead letter the topic holds now, oldest first per partition (the topic is small by nature). */
export async function readDeadLetters(o: {
  kafka: Kafka;
  admin: Admin;
  topic: string;
  groupPrefix: string;
}): Promise<DeadLetterEntry[]> {
  const out: DeadLetterEntry[] = [];
  await readRanges({
    ...o,
    ranges: await wholeTopic(o.admin, o.topic),
    handle: (partition, messages) => {
      for (const m of messages) out.push(toDeadLetterEntry(partition, m));
    },
  });
  return out.sort((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset));
}

/** The dead letters bronze already holds a replay of (`dlq.replay.of` headers): one read of bronze. */
export async function readReplayed(o: {
  kafka: Kafka;
  admin: Admin;
  topic: string;
  groupPrefix: string;
}): Promise<Set<string>> {
  const out = new Set<string>();
  await readRanges({
    ...o,
    ranges: await wholeTopic(o.admin, o.topic),
    handle: (_partition, messages) => {
      for (const m of messages) {
        const of = m.headers?.[REPLAY_OF_HEADER];
        if (of !== undefined) out.add(text(of));
      }
    },
  });
  return out;
}
