import type { EnrichedBooking, EnrichedBookingChange } from '@cdc/core';
import { emptyMovieState, type ApplyOutcome, type BatchDelta, type TouchedMovie } from './apply';
import {
  changeBookingId,
  changeVersion,
  contribute,
  emptyCounters,
  movieKeyOf,
  storedFromImage,
  type MovieCounters,
  type StoredBooking,
} from './kpi';

/**
 * The rebuild's applier: the same result as `BatchApplier` on an empty state, computed the cheap
 * way. While replaying it only keeps the newest change of every booking (version rule) and the
 * event counters; the KPIs are computed once at the end from the final rows, so nothing is ever
 * retracted. The differential test checks it against the live path, column for column.
 */
export class ReplayApplier {
  private readonly latest = new Map<string, EnrichedBookingChange>();
  private readonly counters = new Map<string, MovieCounters>();
  private applied = 0;
  private skipped = 0;
  private malformed = 0;
  private maxEventTsMs = 0;

  apply(change: EnrichedBookingChange): ApplyOutcome {
    const version = changeVersion(change);
    const id = changeBookingId(change);
    if (version === null || id === undefined) {
      this.malformed += 1;
      return 'malformed';
    }
    const prev = this.latest.get(id);
    if (prev !== undefined && (changeVersion(prev) as number) >= version) {
      this.skipped += 1;
      return 'skipped';
    }
    const ts = change.ts_ms;
    // Every movie the live path touches: the one the booking leaves, the one it joins, the event's.
    const prevImage = prev !== undefined && prev.op !== 'd' ? (prev.after as EnrichedBooking) : undefined;
    if (prevImage !== undefined) this.touch(movieKeyOf(prevImage.movie_id), ts);
    if (change.op === 'd') {
      this.touch(movieKeyOf((change.before as EnrichedBooking).movie_id), ts).deleted_bookings += 1;
    } else {
      const image = change.after as EnrichedBooking;
      const m = this.touch(movieKeyOf(image.movie_id), ts);
      if (change.op === 'c') m.new_bookings += 1;
      else if (change.op === 'u') {
        m.updates += 1;
        const previous = change.before?.status ?? prevImage?.status;
        if (previous !== undefined && previous !== image.status) m.status_changes += 1;
      }
    }
    if (ts > this.maxEventTsMs) this.maxEventTsMs = ts;
    // Only the image of the final row is needed from here on: let the other one be collected young.
    const kept: EnrichedBookingChange = change.op === 'd' ? change : { ...change, before: null };
    this.latest.set(id, kept);
    this.applied += 1;
    return 'applied';
  }

  /** The final rows and every touched movie's KPIs, as a delta for `AggregatorStore.writeDelta`. */
  finish(): BatchDelta {
    const movies = new Map<string, TouchedMovie>();
    for (const [key, counters] of this.counters) {
      movies.set(key, {
        state: { ...emptyMovieState(key), counters },
        dirtyDays: new Set(),
        dirtyHours: new Set(),
      });
    }
    const bookings: StoredBooking[] = [];
    for (const change of this.latest.values()) {
      const deleted = change.op === 'd' ? 1 : 0;
      const image = (deleted ? change.before : change.after) as EnrichedBooking;
      const row = storedFromImage(
        image,
        changeVersion(change) as number,
        deleted,
        change.event_id,
        change.ts_ms,
      );
      bookings.push(row);
      if (deleted) continue;
      const m = movies.get(movieKeyOf(image.movie_id)) as TouchedMovie;
      const c = m.state.counters;
      contribute(c, row, 1);
      if (row.is_valid_booking !== 1) continue;
      const days = m.state.days;
      const n = days.get(row.booking_date_only) ?? 0;
      if (n === 0) c.booking_days += 1;
      days.set(row.booking_date_only, n + 1);
      m.dirtyDays.add(row.booking_date_only);
      const hours = m.state.hours;
      const h = hours.get(row.booking_hour) ?? 0;
      if (h === 0) c.active_hours += 1;
      hours.set(row.booking_hour, h + 1);
      m.dirtyHours.add(row.booking_hour);
    }
    bookings.sort((a, b) => {
      const x = (a.image as EnrichedBooking).booking_id;
      const y = (b.image as EnrichedBooking).booking_id;
      return x < y ? -1 : x > y ? 1 : 0;
    });
    return {
      bookings,
      movies,
      applied: this.applied,
      skipped: this.skipped,
      malformed: this.malformed,
      maxEventTsMs: this.maxEventTsMs,
    };
  }

  private touch(key: string, ts: number): MovieCounters {
    let m = this.counters.get(key);
    if (m === undefined) {
      m = emptyCounters(key);
      this.counters.set(key, m);
    }
    if (ts > m.last_event_ts_ms) m.last_event_ts_ms = ts;
    return m;
  }
}
