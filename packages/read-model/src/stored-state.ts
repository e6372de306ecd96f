import { createIdFilter, type IdFilter } from '@cdc/core';
import { LRUCache } from 'lru-cache';
import type { StoredBooking } from './booking-row';
import { countersFromRow } from './kpi-row';
import type { MovieState, StateSource } from './state';
import type { Statements } from './statements';

const BOOKING_ID_CHUNK = 65_536;

/**
 * The writer's view of stored state: movie states and recently used booking rows read through
 * (and written through) in-memory caches, and a Bloom filter of the stored booking ids so a
 * booking certainly not stored costs no point lookup. Only the single writer may trust these
 * between batches (see writer.ts); after a failed transaction `clear()` makes the database the
 * truth again.
 */
export class StoredStateCache {
  /** Stored state through the caches (movie states, recently used booking rows). */
  readonly source: StateSource;
  private readonly movieCache = new Map<string, MovieState>();
  /**
   * Recently used booking rows: null when off (size 0). lru-cache, not a Map evicting its oldest
   * key with `keys().next()`: V8 keeps a deleted Map entry as a hole until the table is rebuilt,
   * so each such eviction walked every hole the earlier ones left — once the cache was full the
   * aggregator spent ~100 µs per change instead of ~25 (BENCHMARKS.md, "A full booking cache").
   */
  private readonly bookingCache: LRUCache<string, StoredBooking> | null;
  /** The booking ids stored (probably): null when off. */
  private readonly bookingIds: IdFilter | null;

  constructor(
    private readonly s: Statements,
    bookingCacheSize: number,
    bookingFilter: boolean,
  ) {
    this.bookingIds = bookingFilter ? this.loadBookingIds() : null;
    this.bookingCache = bookingCacheSize > 0 ? new LRUCache({ max: bookingCacheSize }) : null;
    const ids = this.bookingIds;
    this.source = {
      booking: (id) => {
        const hit = this.bookingCache?.get(id);
        if (hit !== undefined) return hit;
        if (ids !== null && !ids.mayHave(id)) return undefined; // certainly not stored
        const row = s.booking.get(id) as StoredBooking | undefined;
        if (row !== undefined) this.cacheBooking(id, row);
        return row;
      },
      movie: (key) => {
        const hit = this.movieCache.get(key);
        if (hit !== undefined) return hit;
        const row = s.movie.get(key) as Record<string, unknown> | undefined;
        if (row === undefined) return undefined;
        const state: MovieState = {
          counters: countersFromRow(row),
          days: new Map(s.days.all(key) as [string, number][]),
          hours: new Map(s.hours.all(key) as [number, number][]),
        };
        this.movieCache.set(key, state);
        return state;
      },
    };
  }

  /** Keeps a movie's state as written. */
  putMovie(key: string, state: MovieState): void {
    this.movieCache.set(key, state);
  }

  /** Keeps a booking row as written (most recently used; the oldest goes beyond the cache's size). */
  cacheBooking(id: string, row: StoredBooking): void {
    this.bookingCache?.set(id, row);
  }

  /** Notes a booking id as stored (in the Bloom filter, when on). */
  noteBookingId(id: string): void {
    // Only ids not (probably) in yet: an update adds nothing, so the filter grows with new ids.
    if (this.bookingIds !== null && !this.bookingIds.mayHave(id)) this.bookingIds.add(id);
  }

  /** Forgets every cached row (the Bloom filter stays: a false positive costs only a lookup). */
  clear(): void {
    this.movieCache.clear();
    this.bookingCache?.clear();
  }

  /**
   * Every stored booking id, into a Bloom filter sized for 1.5× them (1,000,000 ids: 2 MiB and
   * 0.5–0.7 s at open on the 2-core dev host; 10,000,000: 32 MiB, 7–11 s; see BENCHMARKS.md).
   */
  private loadBookingIds(): IdFilter {
    // One layer sized for the ids stored and those to come (a full layer adds one: slower lookups).
    const rows = this.s.bookingCount.get() as number;
    const ids = createIdFilter(Math.max(1 << 16, Math.ceil(rows * 1.5)));
    // In key order, in chunks (`all` is faster than `iterate`).
    let after = '';
    for (;;) {
      const chunk = this.s.bookingIdsAfter.all(after, BOOKING_ID_CHUNK) as string[];
      for (const id of chunk) ids.add(id);
      if (chunk.length < BOOKING_ID_CHUNK) return ids;
      after = chunk[chunk.length - 1]!;
    }
  }
}
