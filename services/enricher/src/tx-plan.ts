import type { Message, TopicMessages, TopicOffsets } from '@cdc/core';

/**
 * Pure planning of one transaction: which units go in, how their records are split into produce
 * requests, and which input offsets it commits.
 */
export interface TxUnit {
  /** Input (bronze) topic and partition. */
  topic: string;
  partition: number;
  /** The input offset to commit: last processed + 1 (past any trailing control records). */
  nextOffset: number;
  silver: Message[];
  deadLetters: Message[];
  recordsIn: number;
  invalid: number;
  deadLetterCodes: Map<string, number>;
  /** Consumer group generation the records were fetched in. */
  generation: number;
}

export const unitKey = (u: { topic: string; partition: number }): string => `${u.topic}\u0000${u.partition}`;

/** Takes units from the front of `queue` while the total stays within `maxRecords` (always at least one). */
export function takeUnits<T extends { unit: TxUnit }>(queue: T[], maxRecords: number): T[] {
  const taken: T[] = [];
  let records = 0;
  while (queue.length > 0) {
    const next = queue[0]!;
    if (taken.length > 0 && records + next.unit.recordsIn > maxRecords) break;
    queue.shift();
    taken.push(next);
    records += next.unit.recordsIn;
  }
  return taken;
}

const HEADER_OVERHEAD_BYTES = 8;
const RECORD_OVERHEAD_BYTES = 70;

/** An upper estimate of a record's size in a record batch. */
export function messageBytes(m: Message): number {
  let bytes = RECORD_OVERHEAD_BYTES;
  if (m.value) bytes += typeof m.value === 'string' ? Buffer.byteLength(m.value) : m.value.length;
  if (m.key) bytes += typeof m.key === 'string' ? Buffer.byteLength(m.key) : m.key.length;
  if (m.headers) {
    for (const [name, v] of Object.entries(m.headers)) {
      const values = Array.isArray(v) ? v : v === undefined ? [] : [v];
      for (const x of values) {
        bytes += HEADER_OVERHEAD_BYTES + Buffer.byteLength(name);
        bytes += typeof x === 'string' ? Buffer.byteLength(x) : x.length;
      }
    }
  }
  return bytes;
}

/**
 * Splits the units' records into produce requests of at most `maxBytes` each (a single larger
 * record goes alone), keeping every topic's records in unit order, so each booking's changes
 * stay in order across requests.
 */
export function planSends(
  units: readonly TxUnit[],
  topics: { silver: string; deadLetter: string },
  maxBytes: number,
): TopicMessages[][] {
  const sends: TopicMessages[][] = [];
  let silver: Message[] = [];
  let dead: Message[] = [];
  let bytes = 0;
  const flush = (): void => {
    const request: TopicMessages[] = [];
    if (silver.length > 0) request.push({ topic: topics.silver, messages: silver });
    if (dead.length > 0) request.push({ topic: topics.deadLetter, messages: dead });
    if (request.length > 0) sends.push(request);
    silver = [];
    dead = [];
    bytes = 0;
  };
  const add = (list: 'silver' | 'dead', m: Message): void => {
    const size = messageBytes(m);
    if (bytes > 0 && bytes + size > maxBytes) flush();
    (list === 'silver' ? silver : dead).push(m);
    bytes += size;
  };
  for (const u of units) {
    for (const m of u.silver) add('silver', m);
    for (const m of u.deadLetters) add('dead', m);
  }
  flush();
  return sends;
}

/** The input offsets a transaction commits: per partition, the highest `nextOffset` of its units. */
export function planOffsets(units: readonly TxUnit[]): TopicOffsets[] {
  const byTopic = new Map<string, Map<number, number>>();
  for (const u of units) {
    let partitions = byTopic.get(u.topic);
    if (!partitions) byTopic.set(u.topic, (partitions = new Map<number, number>()));
    partitions.set(u.partition, Math.max(partitions.get(u.partition) ?? -1, u.nextOffset));
  }
  return [...byTopic].map(([topic, partitions]) => ({
    topic,
    partitions: [...partitions]
      .sort((a, b) => a[0] - b[0])
      .map(([partition, offset]) => ({ partition, offset: String(offset) })),
  }));
}

/** Totals of a set of units, for metrics. */
export function unitTotals(units: readonly TxUnit[]): {
  recordsIn: number;
  recordsOut: number;
  invalid: number;
  deadLetterCodes: Map<string, number>;
} {
  const deadLetterCodes = new Map<string, number>();
  let recordsIn = 0;
  let recordsOut = 0;
  let invalid = 0;
  for (const u of units) {
    recordsIn += u.recordsIn;
    recordsOut += u.silver.length;
    invalid += u.invalid;
    for (const [code, n] of u.deadLetterCodes)
      deadLetterCodes.set(code, (deadLetterCodes.get(code) ?? 0) + n);
  }
  return { recordsIn, recordsOut, invalid, deadLetterCodes };
}

/** Exponential backoff with jitter: initial, 2x, 4x … capped at max, each ±20 %. */
export function backoffMs(attempt: number, initialMs: number, maxMs: number, random = Math.random): number {
  const base = Math.min(maxMs, initialMs * 2 ** Math.max(0, attempt - 1));
  return Math.max(1, Math.round(base * (0.8 + 0.4 * random())));
}
