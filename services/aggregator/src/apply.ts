import type { EnrichedBooking, EnrichedBookingChange } from '@cdc/core';
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
 * Applies a batch of changes on top of a state source (the SQLite store, or nothing for a
 * rebuild), in memory: every booking, movie and reference count is read from the source at most
 * once per batch and the net result is returned as a delta for the store to write in one
 * transaction. Pure apart from the reads through `StateSource`.
 */
export interface StateSource {
  booking(id: string): StoredBooking | undefined;
  movie(key: string): MovieCounters | undefined;
  dayCount(movieKey: string, day: string): number;
  hourCount(movieKey: string, hour: number): number;
}

export const EMPTY_SOURCE: StateSource = {
  booking: () => undefined,
  movie: () => undefined,
  dayCount: () => 0,
  hourCount: () => 0,
};

/** The new stored row of one booking, with what the `bookings` table also keeps. */
export interface BookingWrite {
  booking_id: string;
  row: StoredBooking;
  image: EnrichedBooking;
  event_id: string;
  event_ts_ms: number;
}

export interface DayCount {
  movieKey: string;
  day: string;
  n: number;
}

export interface HourCount {
  movieKey: string;
  hour: number;
  n: number;
}

export interface BatchDelta {
  bookings: Map<string, BookingWrite>;
  /** Every movie touched by an applied change, with its new counters. */
  movies: Map<string, MovieCounters>;
  days: Map<string, DayCount>;
  hours: Map<string, HourCount>;
  applied: number;
  skipped: number;
  malformed: number;
  /** Largest event time (ts_ms) among applied changes, 0 when none. */
  maxEventTsMs: number;
}

export type ApplyOutcome = 'applied' | 'skipped' | 'malformed';

export class BatchApplier {
  private readonly read = new Map<string, StoredBooking | null>();
  private readonly delta: BatchDelta = {
    bookings: new Map(),
    movies: new Map(),
    days: new Map(),
    hours: new Map(),
    applied: 0,
    skipped: 0,
    malformed: 0,
    maxEventTsMs: 0,
  };

  constructor(private readonly source: StateSource) {}

  /** Applies one change. Not newer than the stored version (tombstones included): skipped. */
  apply(change: EnrichedBookingChange): ApplyOutcome {
    const version = changeVersion(change);
    const id = changeBookingId(change);
    if (version === null || id === undefined) {
      this.delta.malformed += 1;
      return 'malformed';
    }
    const current = this.current(id);
    if (current !== undefined && current.version >= version) {
      this.delta.skipped += 1;
      return 'skipped';
    }
    const ts = change.ts_ms;
    if (current !== undefined && current.deleted === 0) this.retract(current, ts);

    let image: EnrichedBooking;
    let row: StoredBooking;
    let eventMovie: MovieCounters;
    if (change.op === 'd') {
      image = change.before as EnrichedBooking;
      row = storedFromImage(image, version, 1);
      eventMovie = this.movie(movieKeyOf(image.movie_id));
      eventMovie.deleted_bookings += 1;
    } else {
      image = change.after as EnrichedBooking;
      row = storedFromImage(image, version, 0);
      this.add(row, ts);
      eventMovie = this.movie(movieKeyOf(image.movie_id));
      if (change.op === 'c') eventMovie.new_bookings += 1;
      else if (change.op === 'u') {
        eventMovie.updates += 1;
        const previous = change.before?.status ?? (current?.deleted === 0 ? current.status : undefined);
        if (previous !== undefined && previous !== image.status) eventMovie.status_changes += 1;
      }
    }
    if (ts > eventMovie.last_event_ts_ms) eventMovie.last_event_ts_ms = ts;
    if (ts > this.delta.maxEventTsMs) this.delta.maxEventTsMs = ts;
    this.read.set(id, row);
    this.delta.bookings.set(id, { booking_id: id, row, image, event_id: change.event_id, event_ts_ms: ts });
    this.delta.applied += 1;
    return 'applied';
  }

  /** The net result so far. The applier must not be used afterwards. */
  finish(): BatchDelta {
    return this.delta;
  }

  private current(id: string): StoredBooking | undefined {
    let row = this.read.get(id);
    if (row === undefined) {
      row = this.source.booking(id) ?? null;
      this.read.set(id, row);
    }
    return row ?? undefined;
  }

  private movie(key: string): MovieCounters {
    let m = this.delta.movies.get(key);
    if (m === undefined) {
      const stored = this.source.movie(key);
      m = stored ? { ...stored } : emptyCounters(key);
      this.delta.movies.set(key, m);
    }
    return m;
  }

  private add(row: StoredBooking, ts: number): void {
    this.change(row, 1, ts);
  }

  private retract(row: StoredBooking, ts: number): void {
    this.change(row, -1, ts);
  }

  private change(row: StoredBooking, sign: 1 | -1, ts: number): void {
    const key = movieKeyOf(row.movie_id);
    const m = this.movie(key);
    contribute(m, row, sign);
    if (ts > m.last_event_ts_ms) m.last_event_ts_ms = ts;
    if (row.is_valid_booking !== 1) return;

    const dayKey = `${key}\u0000${row.booking_date_only}`;
    let day = this.delta.days.get(dayKey);
    if (day === undefined) {
      day = {
        movieKey: key,
        day: row.booking_date_only,
        n: this.source.dayCount(key, row.booking_date_only),
      };
      this.delta.days.set(dayKey, day);
    }
    const dayBefore = day.n;
    day.n += sign;
    if (dayBefore === 0 && day.n > 0) m.booking_days += 1;
    else if (dayBefore > 0 && day.n === 0) m.booking_days -= 1;

    const hourKey = `${key}\u0000${row.booking_hour}`;
    let hour = this.delta.hours.get(hourKey);
    if (hour === undefined) {
      hour = { movieKey: key, hour: row.booking_hour, n: this.source.hourCount(key, row.booking_hour) };
      this.delta.hours.set(hourKey, hour);
    }
    const hourBefore = hour.n;
    hour.n += sign;
    if (hourBefore === 0 && hour.n > 0) m.active_hours += 1;
    else if (hourBefore > 0 && hour.n === 0) m.active_hours -= 1;
  }
}
