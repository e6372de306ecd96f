import type { MovieKpis } from '@cdc/core';

/**
 * The published gold snapshot of every movie, as read from the compacted gold topic, plus the
 * updates not yet published (coalesced per movie: only the newest snapshot of a movie within a
 * push window is sent). Pure: no I/O.
 *
 * Ordering: a movie's snapshots share one key, hence one partition, so they arrive in the order
 * the aggregator wrote them and the last one wins. The same snapshot delivered twice (same
 * `snapshot_version` and `updated_at`) is recognized and changes nothing.
 */
export type MovieRow = MovieKpis & { movie_key: string };

export interface PendingChanges {
  movies: MovieRow[];
  removed: string[];
  /** Newest event time (`last_event_ts_ms`) among the changed movies; 0 when none. */
  maxEventTsMs: number;
  /** When the oldest of these updates arrived from Kafka (epoch ms). */
  firstReceivedAtMs: number;
}

export class GoldState {
  private readonly movies = new Map<string, MovieRow>();
  private readonly pending = new Map<string, MovieRow | null>();
  private firstPendingAtMs = 0;
  /** The newest `updated_at` (when the aggregator applied a change) and event time seen. */
  lastChangeAtMs = 0;
  lastEventTsMs = 0;
  /** `updated_at - last_event_ts_ms` of the movie updated last (the aggregator's end-to-end lag). */
  lastApplyLagMs: number | null = null;

  /** Applies one gold record (null value = tombstone). Returns true when something changed. */
  apply(key: string, value: MovieKpis | null, receivedAtMs: number): boolean {
    const current = this.pending.has(key) ? this.pending.get(key) : this.movies.get(key);
    if (value === null) {
      if (!current) return false;
      this.queue(key, null, receivedAtMs);
      return true;
    }
    if (
      current &&
      current.snapshot_version === value.snapshot_version &&
      current.updated_at === value.updated_at
    ) {
      return false;
    }
    this.queue(key, { ...value, movie_key: key }, receivedAtMs);
    if (value.last_event_ts_ms > this.lastEventTsMs) this.lastEventTsMs = value.last_event_ts_ms;
    if (value.updated_at >= this.lastChangeAtMs) {
      this.lastChangeAtMs = value.updated_at;
      this.lastApplyLagMs = value.last_event_ts_ms > 0 ? value.updated_at - value.last_event_ts_ms : null;
    }
    return true;
  }

  private queue(key: string, row: MovieRow | null, receivedAtMs: number): void {
    if (this.pending.size === 0) this.firstPendingAtMs = receivedAtMs;
    this.pending.set(key, row);
  }

  get hasPending(): boolean {
    return this.pending.size > 0;
  }

  /** Takes the coalesced updates since the last call and makes them part of the published state. */
  takePending(): PendingChanges {
    const movies: MovieRow[] = [];
    const removed: string[] = [];
    let maxEventTsMs = 0;
    for (const [key, row] of this.pending) {
      if (row === null) {
        if (this.movies.delete(key)) removed.push(key);
      } else {
        this.movies.set(key, row);
        movies.push(row);
        if (row.last_event_ts_ms > maxEventTsMs) maxEventTsMs = row.last_event_ts_ms;
      }
    }
    const out = { movies, removed, maxEventTsMs, firstReceivedAtMs: this.firstPendingAtMs };
    this.pending.clear();
    return out;
  }

  /** Data quality over all published movies: valid ÷ total × 100 (2 decimals), null when empty. */
  dataQualityScore(): number | null {
    let total = 0;
    let valid = 0;
    for (const m of this.movies.values()) {
      total += m.total_bookings;
      valid += m.valid_bookings;
    }
    return total > 0 ? Math.round((valid / total) * 10000) / 100 : null;
  }

  /** Every movie's published snapshot (pending updates excluded), sorted by key. */
  snapshot(): MovieRow[] {
    return [...this.movies.values()].sort((a, b) => (a.movie_key < b.movie_key ? -1 : 1));
  }

  get size(): number {
    return this.movies.size;
  }
}
