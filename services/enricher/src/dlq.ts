import {
  positionOf,
  readRanges,
  REPLAY_OF_HEADER,
  type DeadLetterEntry,
  type Admin,
  type IHeaders,
  type Kafka,
  type Message,
} from '@cdc/core';

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

const text = (v: IHeaders[string]): string => {
  const one = Array.isArray(v) ? v[0] : v;
  return one === undefined ? '' : one.toString();
};

const wholeTopic = async (admin: Admin, topic: string) =>
  (await admin.fetchTopicOffsets(topic)).map((p) => ({
    partition: p.partition,
    start: Number(p.low),
    end: Number(p.high),
  }));

/** How far the clocks of the hosts that write dead letters and replays may disagree. */
export const REPLAY_CLOCK_SKEW_MS = 10 * 60_000;

/**
 * Where to start reading bronze for the replays of `candidates` (null: none to look for). A replay
 * is written after its dead letter (both timestamped when sent), so bronze is read from the
 * oldest candidate's time, less a margin for clocks of different hosts, not from its beginning.
 */
export function replaysSince(candidates: readonly DeadLetterEntry[]): number | null {
  let oldest = Number.POSITIVE_INFINITY;
  for (const e of candidates) oldest = Math.min(oldest, e.timestampMs);
  if (candidates.length === 0) return null;
  return Number.isFinite(oldest) ? Math.max(0, oldest - REPLAY_CLOCK_SKEW_MS) : 0;
}

/**
 * The dead letters bronze already holds a replay of (`dlq.replay.of` headers): one read of bronze
 * from the records written at `sinceMs` on (default: all of it).
 */
export async function readReplayed(o: {
  kafka: Kafka;
  admin: Admin;
  topic: string;
  groupPrefix: string;
  sinceMs?: number;
}): Promise<Set<string>> {
  const out = new Set<string>();
  const ranges = await wholeTopic(o.admin, o.topic);
  if (o.sinceMs !== undefined && o.sinceMs > 0) {
    const from = new Map(
      (await o.admin.fetchTopicOffsetsByTimestamp(o.topic, o.sinceMs)).map((p) => [
        p.partition,
        Number(p.offset),
      ]),
    );
    for (const r of ranges) r.start = Math.min(r.end, Math.max(r.start, from.get(r.partition) ?? r.start));
  }
  await readRanges({
    ...o,
    ranges,
    handle: (_partition, messages) => {
      for (const m of messages) {
        const of = m.headers?.[REPLAY_OF_HEADER];
        if (of !== undefined) out.add(text(of));
      }
    },
  });
  return out;
}
