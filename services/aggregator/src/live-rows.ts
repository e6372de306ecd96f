import type { EnrichedBooking, EnrichedBookingChange } from '@cdc/core';
import {
  emptyMovieState,
  movieKeyOf,
  storedFromImage,
  type KpiDelta,
  type MovieCounters,
  type StateSource,
  type StoredBooking,
  type TouchedMovie,
} from '@cdc/read-model';
import { ChangeApplier, type RowStore } from './apply';
import { contribute } from './kpi';

/**
 * The live row store: the current rows are the read model's bookings table, read through the
 * writer's caches (`StateSource`, outside any transaction: this process is the only writer), and
 * each replaced row's KPI contribution is retracted from its movie and the new row's added, so
 * the movies' KPIs are exact after every change. Every booking and movie is read from the source
 * at most once per batch; the net result is a delta for the writer to store in one transaction.
 *
 * The source may hand out its own cached objects: movie states are updated in place, so a source
 * that caches them must drop its cache when the batch's transaction fails.
 */
export class LiveRows implements RowStore<EnrichedBookingChange, StoredBooking, void> {
  /** Current row of every booking seen in this batch (read through, then as changed). */
  private readonly rows = new Map<string, StoredBooking>();
  private readonly movies = new Map<string, TouchedMovie>();

  constructor(private readonly source: StateSource) {}

  current(id: string): StoredBooking | undefined {
    const row = this.rows.get(id);
    return row !== undefined ? row : this.source.booking(id);
  }

  liveStatus(row: StoredBooking): string | undefined {
    return row.deleted === 0 ? row.status : undefined;
  }

  replace(
    id: string,
    current: StoredBooking | undefined,
    change: EnrichedBookingChange,
    version: number,
    epoch: number,
  ): MovieCounters {
    const ts = change.ts_ms;
    if (current !== undefined && current.deleted === 0) this.count(current, -1, ts);
    let row: StoredBooking;
    let movie: MovieCounters;
    if (change.op === 'd') {
      const image = change.before as EnrichedBooking;
      row = storedFromImage(image, version, epoch, 1, change.event_id, ts);
      movie = this.movie(movieKeyOf(image.movie_id)).state.counters;
      if (ts > movie.last_event_ts_ms) movie.last_event_ts_ms = ts;
    } else {
      row = storedFromImage(change.after as EnrichedBooking, version, epoch, 0, change.event_id, ts);
      movie = this.count(row, 1, ts);
    }
    this.rows.set(id, row);
    return movie;
  }

  finish(): KpiDelta {
    const bookings: StoredBooking[] = [];
    for (const row of this.rows.values()) if (row.image !== undefined) bookings.push(row);
    // In key order: the B-tree is written page by page instead of at random.
    bookings.sort((a, b) => {
      const x = (a.image as EnrichedBooking).booking_id;
      const y = (b.image as EnrichedBooking).booking_id;
      return x < y ? -1 : x > y ? 1 : 0;
    });
    return { bookings, movies: this.movies };
  }

  private movie(key: string): TouchedMovie {
    let m = this.movies.get(key);
    if (m === undefined) {
      m = {
        state: this.source.movie(key) ?? emptyMovieState(key),
        dirtyDays: new Set(),
        dirtyHours: new Set(),
      };
      this.movies.set(key, m);
    }
    return m;
  }

  /** Adds (1) or retracts (-1) a current row's contribution; returns its movie's counters, stamped. */
  private count(row: StoredBooking, sign: 1 | -1, ts: number): MovieCounters {
    const m = this.movie(movieKeyOf(row.movie_id));
    contribute(m, row, sign);
    const c = m.state.counters;
    if (ts > c.last_event_ts_ms) c.last_event_ts_ms = ts;
    return c;
  }
}

/** The live applier: the one rule (apply.ts) over a batch's live rows. */
export class BatchApplier extends ChangeApplier<EnrichedBookingChange, StoredBooking> {
  constructor(source: StateSource) {
    super(new LiveRows(source));
  }
}
