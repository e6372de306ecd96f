import type { EnrichedBooking, EnrichedBookingChange } from '@cdc/core';
import {
  emptyMovieState,
  movieKeyOf,
  storedFromImage,
  versionOrder,
  type KpiDelta,
  type MovieCounters,
  type StateSource,
  type StoredBooking,
  type TouchedMovie,
} from '@cdc/read-model';
import { changeBookingId, changeVersion, contribute } from './kpi';

/**
 * Applies a batch of changes on top of a state source (the read model's writer, or nothing for a
 * rebuild), in memory: every booking and movie is read from the source at most once per batch,
 * and the net result is returned as a delta for the writer to store in one transaction. Pure
 * apart from the reads through `StateSource`.
 *
 * The source may hand out its own cached objects: the applier updates movie states in place, so
 * a source that caches them must drop its cache when the batch's transaction fails.
 */
export interface BatchDelta extends KpiDelta {
  /** Changes that changed a row: version advances and re-derivations. */
  applied: number;
  /** Of the applied: re-derivations (same version, newer derivation epoch; no event). */
  rederived: number;
  skipped: number;
  malformed: number;
  /** Largest event time (ts_ms) among applied events (re-derivations excluded), 0 when none. */
  maxEventTsMs: number;
}

export type ApplyOutcome = 'applied' | 'skipped' | 'malformed';

export class BatchApplier {
  /** Current state of every booking seen in this batch (read through, then as changed). */
  private readonly rows = new Map<string, StoredBooking>();
  private readonly movies = new Map<string, TouchedMovie>();
  private applied = 0;
  private rederived = 0;
  private skipped = 0;
  private malformed = 0;
  private maxEventTsMs = 0;

  constructor(private readonly source: StateSource) {}

  /**
   * Applies one change (the read model's `versionOrder`): a newer version replaces the row and
   * counts as an event; the same version under a newer derivation epoch replaces the row the same
   * way (retract the old contribution, add the new: validity and categories may differ under new
   * rules) but is no event; anything else (tombstones included) is skipped.
   */
  apply(change: EnrichedBookingChange): ApplyOutcome {
    const version = changeVersion(change);
    const id = changeBookingId(change);
    if (version === null || id === undefined) {
      this.malformed += 1;
      return 'malformed';
    }
    let current = this.rows.get(id);
    if (current === undefined) current = this.source.booking(id);
    const epoch = change.derivation_epoch;
    // A re-derivation is no event: it changes the row, never the event counters.
    let event = true;
    if (current !== undefined) {
      const order = versionOrder(version, epoch, current);
      if (order === 'not-newer') {
        this.skipped += 1;
        return 'skipped';
      }
      if (order === 'rederived') {
        event = false;
        this.rederived += 1;
      }
    }
    const ts = change.ts_ms;
    if (current !== undefined && current.deleted === 0) this.contribution(current, -1, ts);

    let row: StoredBooking;
    let eventMovie: MovieCounters;
    if (change.op === 'd') {
      const image = change.before as EnrichedBooking;
      row = storedFromImage(image, version, epoch, 1, change.event_id, ts);
      eventMovie = this.movie(movieKeyOf(image.movie_id)).state.counters;
      if (event) eventMovie.deleted_bookings += 1;
    } else {
      const image = change.after as EnrichedBooking;
      row = storedFromImage(image, version, epoch, 0, change.event_id, ts);
      eventMovie = this.contribution(row, 1, ts);
      if (!event) {
        // A re-derivation: the contribution is replaced (above), nothing is counted.
      } else if (change.op === 'c') eventMovie.new_bookings += 1;
      else if (change.op === 'u') {
        eventMovie.updates += 1;
        const previous = change.before?.status ?? (current?.deleted === 0 ? current.status : undefined);
        if (previous !== undefined && previous !== image.status) eventMovie.status_changes += 1;
      }
    }
    if (ts > eventMovie.last_event_ts_ms) eventMovie.last_event_ts_ms = ts;
    // A re-derived record carries its old event time: it says nothing about freshness.
    if (event && ts > this.maxEventTsMs) this.maxEventTsMs = ts;
    this.rows.set(id, row);
    this.applied += 1;
    return 'applied';
  }

  /** The net result. The applier must not be used afterwards. */
  finish(): BatchDelta {
    const bookings: StoredBooking[] = [];
    for (const row of this.rows.values()) if (row.image !== undefined) bookings.push(row);
    // In key order: the B-tree is written page by page instead of at random.
    bookings.sort((a, b) => {
      const x = (a.image as EnrichedBooking).booking_id;
      const y = (b.image as EnrichedBooking).booking_id;
      return x < y ? -1 : x > y ? 1 : 0;
    });
    return {
      bookings,
      movies: this.movies,
      applied: this.applied,
      rederived: this.rederived,
      skipped: this.skipped,
      malformed: this.malformed,
      maxEventTsMs: this.maxEventTsMs,
    };
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

  /** Adds (1) or retracts (-1) a live row's contribution; returns its movie's counters. */
  private contribution(row: StoredBooking, sign: 1 | -1, ts: number): MovieCounters {
    const m = this.movie(movieKeyOf(row.movie_id));
    const c = m.state.counters;
    contribute(c, row, sign);
    if (ts > c.last_event_ts_ms) c.last_event_ts_ms = ts;
    if (row.is_valid_booking !== 1) return c;

    const days = m.state.days;
    const day = row.booking_date_only;
    const dayBefore = days.get(day) ?? 0;
    days.set(day, dayBefore + sign);
    m.dirtyDays.add(day);
    if (dayBefore === 0 && sign === 1) c.booking_days += 1;
    else if (dayBefore === 1 && sign === -1) c.booking_days -= 1;

    const hours = m.state.hours;
    const hour = row.booking_hour;
    const hourBefore = hours.get(hour) ?? 0;
    hours.set(hour, hourBefore + sign);
    m.dirtyHours.add(hour);
    if (hourBefore === 0 && sign === 1) c.active_hours += 1;
    else if (hourBefore === 1 && sign === -1) c.active_hours -= 1;
    return c;
  }
}
