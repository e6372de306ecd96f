import type { EnrichedBooking, EnrichedBookingChange } from '@cdc/core';
import {
  emptyCounters,
  emptyMovieState,
  movieKeyOf,
  storedFromImage,
  versionOrder,
  type MovieCounters,
  type RowVersion,
  type StoredBooking,
  type TouchedMovie,
} from '@cdc/read-model';
import type { ApplyOutcome, BatchDelta } from './apply';
import { changeBookingId, changeVersion, contribute } from './kpi';
import { ByteArena, EMPTY_CHUNK, type Slot } from './arena';
import type { ImageHead, ReplayHead } from './replay-head';

/**
 * The rebuild's applier: the same result as `BatchApplier` on an empty state, computed the cheap
 * way. While replaying it only keeps the newest change of every booking (the newest (version,
 * derivation epoch): `versionOrder`) and the event counters, which count version advances only
 * (a re-derivation replaces the kept change and counts nothing, so a version met in several
 * epochs is counted once); the KPIs are computed once at the end from the final rows, so nothing is ever
 * retracted. The differential test checks it against the live path, column for column.
 *
 * Each change comes as its head (`ReplayHead`: what the version rule and the event counters
 * read) and its Avro bytes, kept (in a `ByteArena`) for the booking's newest change only;
 * `finishEach` decodes the final ones in full with `full` (about 1 in 6 in the benchmark).
 */
export class ReplayApplier {
  private readonly latest = new Map<string, Latest>();
  private readonly counters = new Map<string, MovieCounters>();
  private readonly statuses = new Map<string, string>();
  private applied = 0;
  private rederived = 0;
  private skipped = 0;
  private malformed = 0;
  private maxEventTsMs = 0;

  constructor(
    private readonly full: (bytes: Buffer) => EnrichedBookingChange,
    private readonly arena = new ByteArena(),
  ) {}

  apply(change: ReplayHead, bytes: Buffer): ApplyOutcome {
    const version = changeVersion(change);
    const id = changeBookingId(change);
    if (version === null || id === undefined) {
      this.malformed += 1;
      return 'malformed';
    }
    const entry = this.latest.get(id);
    const epoch = change.derivation_epoch;
    // A re-derivation is no event: it replaces the kept change, never the event counters.
    let event = true;
    if (entry !== undefined) {
      const order = versionOrder(version, epoch, entry);
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
    // Every movie the live path touches: the one the booking leaves, the one it joins, the event's.
    const left = entry?.movie;
    if (left !== undefined) stamp(left, ts);
    let movie: MovieCounters | undefined;
    let status = '';
    if (change.op === 'd') {
      const from = (change.before as ImageHead).movie_id;
      const m = left !== undefined && left.movie_id === from ? left : this.touch(movieKeyOf(from), ts);
      if (event) m.deleted_bookings += 1;
    } else {
      const image = change.after as ImageHead;
      // Mostly a booking stays with its movie and status: then no lookup by a new string.
      movie =
        left !== undefined && left.movie_id === image.movie_id
          ? left
          : this.touch(movieKeyOf(image.movie_id), ts);
      status = entry?.status === image.status ? entry.status : this.intern(image.status);
      if (!event) {
        // A re-derivation: the kept change is replaced (below), nothing is counted.
      } else if (change.op === 'c') movie.new_bookings += 1;
      else if (change.op === 'u') {
        movie.updates += 1;
        const previous = change.before?.status ?? (left !== undefined ? entry?.status : undefined);
        if (previous !== undefined && previous !== status) movie.status_changes += 1;
      }
    }
    if (event && ts > this.maxEventTsMs) this.maxEventTsMs = ts;
    if (entry === undefined) {
      const fresh: Latest = {
        version,
        derivation_epoch: epoch,
        movie,
        status,
        chunk: EMPTY_CHUNK,
        start: 0,
        end: 0,
      };
      this.arena.put(fresh, bytes);
      this.latest.set(id, fresh);
    } else {
      entry.version = version;
      entry.derivation_epoch = epoch;
      entry.movie = movie;
      entry.status = status;
      this.arena.put(entry, bytes);
      if (this.arena.wasteful) this.arena.compact(this.latest.values());
    }
    this.applied += 1;
    return 'applied';
  }

  /** The final rows and every touched movie's KPIs, as a delta for the writer's `writeDelta`. */
  finish(): BatchDelta {
    const bookings: StoredBooking[] = [];
    const delta = this.finishEach((row) => bookings.push(row));
    return { ...delta, bookings };
  }

  /**
   * Hands the final rows to `write` one by one in booking_id order (each full change is decoded,
   * written and dropped: nothing of 50,000 rows is retained), then returns every touched movie's
   * KPIs as a delta without bookings.
   */
  finishEach(write: (row: StoredBooking) => void): BatchDelta {
    const movies = new Map<string, TouchedMovie>();
    for (const [key, counters] of this.counters) {
      movies.set(key, {
        state: { ...emptyMovieState(key), counters },
        dirtyDays: new Set(),
        dirtyHours: new Set(),
      });
    }
    // Code-unit order, as the comparison operators (and SQLite's BINARY order for ASCII ids).
    const ids = [...this.latest.keys()].sort();
    for (const id of ids) {
      const entry = this.latest.get(id) as Latest;
      const change = this.full(ByteArena.view(entry));
      const deleted = change.op === 'd' ? 1 : 0;
      const image = (deleted ? change.before : change.after) as EnrichedBooking;
      const row = storedFromImage(
        image,
        entry.version,
        entry.derivation_epoch,
        deleted,
        change.event_id,
        change.ts_ms,
      );
      write(row);
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
    return {
      bookings: [],
      movies,
      applied: this.applied,
      rederived: this.rederived,
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
    stamp(m, ts);
    return m;
  }

  /** One string per distinct status, so that a booking's entry keeps no string of its own. */
  private intern(status: string): string {
    const known = this.statuses.get(status);
    if (known !== undefined) return known;
    this.statuses.set(status, status);
    return status;
  }
}

/**
 * What the replay keeps of a booking's newest change, updated in place (a replay of millions of
 * changes then leaves little for the garbage collector to move), and where its bytes are.
 */
interface Latest extends Slot, RowVersion {
  /** The movie the current row counts for; undefined for a tombstone. */
  movie: MovieCounters | undefined;
  /** The current row's status ('' for a tombstone). */
  status: string;
}

function stamp(m: MovieCounters, ts: number): void {
  if (ts > m.last_event_ts_ms) m.last_event_ts_ms = ts;
}
