import type { BookingChange } from '@cdc/core';
import { createGenerator, DEFAULT_GENERATOR, type OpMix } from '@cdc/bookings';

/**
 * The booking changes of every test and benchmark: the producer's own seeded generator (the
 * product, so tests run on the data users generate), on a fake clock. Every invariant of the
 * contract holds: a booking's version +1 per change, `before` the previous `after`, unique event
 * ids, non-decreasing `ts_ms`. Some images carry bad data on purpose (`dirtyRatio`). Duplicates,
 * stale and out-of-order records are added on top by `withDisorder`.
 */
export interface ChangeOptions {
  /** Same seed and options, same changes (take it from `testSeed` in a test). */
  seed: number;
  /** Event ids are `<idPrefix>-<n>`, n from 1 (default 'e'). */
  idPrefix?: string;
  /** Movies M001… (default 50; at most 999), a few popular ones taking most bookings. */
  movies?: number;
  /** Bookings kept changing at once; beyond them, old ones go dormant (default 1000). */
  liveBookings?: number;
  /** Relative weights of creates, cancellations, other updates and deletes (default the producer's). */
  mix?: OpMix;
  /** Share (0..1) of created or updated images given one defect (default 0.05). */
  dirtyRatio?: number;
  /** Event time of the first change (default 2025-09-03T10:00Z); booking dates up to 30 days before. */
  startMs?: number;
  /** Event time between two changes (default 1000 ms). */
  stepMs?: number;
  /** Time zone of the daily booking curve (default UTC). */
  timeZone?: string;
}

/** Many changes per booking, deletes included: for tests of ordering, retraction and tombstones. */
export const CHURN_MIX: OpMix = { create: 30, cancel: 20, update: 35, delete: 15 };

export const DEFAULT_START_MS = Date.UTC(2025, 8, 3, 10, 0);
const DAY_MS = 86_400_000;

/** An endless stream of changes: each call returns the next one. */
export function changeStream(options: ChangeOptions): () => BookingChange {
  const startMs = options.startMs ?? DEFAULT_START_MS;
  const stepMs = options.stepMs ?? 1000;
  const generator = createGenerator({
    ...DEFAULT_GENERATOR,
    seed: options.seed,
    runId: options.idPrefix ?? 'e',
    movies: options.movies ?? 50,
    maxLiveBookings: options.liveBookings ?? 1000,
    mix: options.mix ?? DEFAULT_GENERATOR.mix,
    dirtyRatio: options.dirtyRatio ?? 0.05,
    timeZone: options.timeZone ?? 'UTC',
    bookingDateFromMs: startMs - 30 * DAY_MS,
    sourceName: 'test',
  });
  let i = 0;
  return () => generator.next(startMs + stepMs * i++).change;
}

/** The first `count` changes of `changeStream(options)`. */
export function bookingChanges(count: number, options: ChangeOptions): BookingChange[] {
  const next = changeStream(options);
  return Array.from({ length: count }, next);
}

/** The booking a change is about. */
export const bookingIdOf = (c: BookingChange): string => (c.after ?? c.before)!.booking_id;
