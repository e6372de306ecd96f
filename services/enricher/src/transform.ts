import {
  CdcError,
  DecodeError,
  RegistryError,
  type BookingChange,
  type EnrichedBookingChange,
  type KafkaMessage,
  type Message,
} from '@cdc/core';
import { deadLetter, errorCode, RECORD_TOO_LARGE, type SourcePosition } from './dead-letter';
import type { Deriver } from '@cdc/bookings';

/**
 * Turns bronze records into silver records and dead letters. Pure apart from the decoder's
 * registry look-ups (one per new schema id). A record-level problem never throws:
 *  - bytes that cannot be decoded (DecodeError) become a dead letter;
 *  - a record that decodes but cannot be enriched or encoded becomes a dead letter too;
 *  - records with bad *data* flow to silver flagged invalid (see derive.ts).
 * Only a problem that is not the record's fault throws (the registry does not answer): the caller
 * retries the whole chunk later, so nothing is dead-lettered because a dependency was down.
 */
export interface EnrichDeps {
  decode(value: Buffer | null): Promise<BookingChange>;
  /**
   * Decodes synchronously once the writer schema is known (undefined: call `decode`); throws like
   * `decode`. Saves a promise per record in the hot loop.
   */
  decodeKnown?(value: Buffer | null): BookingChange | undefined;
  deriver: Deriver;
  encode(value: EnrichedBookingChange): Buffer;
  /** Largest record value to produce (a larger silver record is dead-lettered, a larger dead letter cut). */
  maxValueBytes?: number;
  /** Extra headers on every dead letter (a backfill names its epoch). */
  deadLetterHeaders?: Record<string, string>;
}

/** Room left for the key, the headers and the record framing within the byte limit. */
const DEAD_LETTER_HEADROOM_BYTES = 16_384;

export interface ChunkOutput {
  silver: Message[];
  deadLetters: Message[];
  /** Silver records with an image that failed validation. */
  invalid: number;
  /** Dead letters by error code. */
  deadLetterCodes: Map<string, number>;
}

/** HTTP statuses that say "not now" rather than "never" (the partition waits instead of dead-lettering). */
const WAIT_STATUSES = new Set([401, 403, 408, 429]);

/**
 * Whether a decode failure belongs to the record (dead-letter it) or to the world (retry later).
 * A registry that answers 4xx about one schema id is the record's problem; a registry that is
 * down, overloaded or refuses our credentials is not.
 */
export function isRecordLevel(err: unknown): boolean {
  if (err instanceof DecodeError) return true;
  if (err instanceof RegistryError) {
    return (
      !err.retriable &&
      err.status !== undefined &&
      err.status >= 400 &&
      err.status < 500 &&
      !WAIT_STATUSES.has(err.status)
    );
  }
  return false;
}

/** The silver key: the booking's id (both images carry it), else the key the record came with. */
export function silverKey(change: BookingChange, sourceKey: Buffer | null): string | Buffer | null {
  return change.after?.booking_id ?? change.before?.booking_id ?? sourceKey;
}

export async function enrichChunk(
  messages: readonly KafkaMessage[],
  source: SourcePosition,
  deps: EnrichDeps,
  nowMs: number = Date.now(),
): Promise<ChunkOutput> {
  const out: ChunkOutput = { silver: [], deadLetters: [], invalid: 0, deadLetterCodes: new Map() };
  const maxValueBytes = deps.maxValueBytes ?? Number.POSITIVE_INFINITY;
  const dead = (m: KafkaMessage, err: unknown): void => {
    const letter = deadLetter(m, source, err, maxValueBytes - DEAD_LETTER_HEADROOM_BYTES);
    if (deps.deadLetterHeaders) letter.headers = { ...letter.headers, ...deps.deadLetterHeaders };
    out.deadLetters.push(letter);
    const code = errorCode(err);
    out.deadLetterCodes.set(code, (out.deadLetterCodes.get(code) ?? 0) + 1);
  };
  for (const m of messages) {
    let change: BookingChange;
    try {
      change = deps.decodeKnown?.(m.value) ?? (await deps.decode(m.value));
    } catch (err) {
      if (!isRecordLevel(err)) throw err;
      dead(m, err);
      continue;
    }
    try {
      const enriched = deps.deriver.change(change, nowMs);
      const value = deps.encode(enriched);
      if (value.length > maxValueBytes) {
        throw new CdcError(
          RECORD_TOO_LARGE,
          `silver record of ${value.length} bytes exceeds ${maxValueBytes}`,
        );
      }
      const key = silverKey(change, m.key);
      out.silver.push({ key: typeof key === 'string' ? Buffer.from(key) : key, value });
      if (
        (enriched.after !== null && !enriched.after.is_valid_booking) ||
        (enriched.before !== null && !enriched.before.is_valid_booking)
      ) {
        out.invalid += 1;
      }
    } catch (err) {
      dead(m, err);
    }
  }
  return out;
}
