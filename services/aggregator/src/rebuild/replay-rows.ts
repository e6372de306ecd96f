import type { EnrichedBooking, EnrichedBookingChange } from '@cdc/core';
import {
  emptyCounters,
  emptyMovieState,
  movieKeyOf,
  storedFromImage,
  type KpiDelta,
  type MovieCounters,
  type RowVersion,
  type StoredBooking,
  type TouchedMovie,
} from '@cdc/read-model';
import { ChangeApplier, type BatchDelta, type ImageHead, type RowStore } from '../apply';
import { contribute } from '../kpi';
import { ByteArena, EMPTY_CHUNK, type Slot } from './arena';
import type { ReplayHead } from './replay-head';

/**
 * The rebuild's row store: the same result as the live rows (live-rows.ts) on an empty database,
 * computed the cheap way. The applier (apply.ts, the same rule and event counters as live) keeps
 * only each booking's newest change here — what the version rule compares, the movie the row
 * counts for and its status — and the event counters; the row KPIs are computed once at the end
 * from the final rows, so nothing is ever retracted. The differential test checks it against the
 * live path, column for column.
 *
 * Each change comes as its head (`ReplayHead`: what the rule and the event counters read) and its
 * Avro bytes, kept (in a `ByteArena`) for the booking's newest change only; `finishEach` decodes
 * the final ones in full with `full` (about 1 in 6 in the benchmark).
 */
export class ReplayRows implements RowStore<ReplayHead, Latest, Buffer> {
  private readonly latest = new Map<string, Latest>();
  private readonly counters = new Map<string, MovieCounters>();
  private readonly statuses = new Map<string, string>();

  constructor(
    private readonly full: (bytes: Buffer) => EnrichedBookingChange,
    private readonly arena = new ByteArena(),
  ) {}

  current(id: string): Latest | undefined {
    return this.latest.get(id);
  }

  liveStatus(entry: Latest): string | undefined {
    return entry.movie !== undefined ? entry.status : undefined;
  }

  replace(
    id: string,
    entry: Latest | undefined,
    change: ReplayHead,
    version: number,
    epoch: number,
    bytes: Buffer,
  ): MovieCounters {
    const ts = change.ts_ms;
    // Every movie the live path touches: the one the booking leaves, the one it joins, the event's.
    const left = entry?.movie;
    if (left !== undefined) stamp(left, ts);
    let movie: MovieCounters | undefined;
    let status = '';
    let event: MovieCounters;
    if (change.op === 'd') {
      const from = (change.before as ImageHead).movie_id;
      event = left !== undefined && left.movie_id === from ? left : this.touch(movieKeyOf(from), ts);
    } else {
      const image = change.after as ImageHead;
      // Mostly a booking stays with its movie and status: then no lookup by a new string.
      movie =
        left !== undefined && left.movie_id === image.movie_id
          ? left
          : this.touch(movieKeyOf(image.movie_id), ts);
      status = entry?.status === image.status ? entry.status : this.intern(image.status);
      event = movie;
    }
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
    return event;
  }

  finish(): KpiDelta {
    const bookings: StoredBooking[] = [];
    const { movies } = this.finishEach((row) => bookings.push(row));
    return { bookings, movies };
  }

  /**
   * Hands the final rows to `write` one by one in booking_id order (each full change is decoded,
   * written and dropped: nothing of 50,000 rows is retained), then returns every touched movie's
   * KPIs, without bookings.
   */
  finishEach(write: (row: StoredBooking) => void): KpiDelta {
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
      if (!deleted) contribute(movies.get(movieKeyOf(image.movie_id)) as TouchedMovie, row, 1);
    }
    return { bookings: [], movies };
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

/** The rebuild's applier: the one rule (apply.ts) over the replay's rows. */
export class ReplayApplier extends ChangeApplier<ReplayHead, Latest, Buffer> {
  private readonly replayRows: ReplayRows;

  constructor(full: (bytes: Buffer) => EnrichedBookingChange, arena = new ByteArena()) {
    const rows = new ReplayRows(full, arena);
    super(rows);
    this.replayRows = rows;
  }

  /** `ReplayRows.finishEach`, with the tally: a delta without bookings (they went to `write`). */
  finishEach(write: (row: StoredBooking) => void): BatchDelta {
    const { bookings, movies } = this.replayRows.finishEach(write);
    return { bookings, movies, ...this.tally() };
  }
}

/**
 * What the replay keeps of a booking's newest change, updated in place (a replay of millions of
 * changes then leaves little for the garbage collector to move), and where its bytes are.
 */
export interface Latest extends Slot, RowVersion {
  /** The movie the current row counts for; undefined for a tombstone. */
  movie: MovieCounters | undefined;
  /** The current row's status ('' for a tombstone). */
  status: string;
}

function stamp(m: MovieCounters, ts: number): void {
  if (ts > m.last_event_ts_ms) m.last_event_ts_ms = ts;
}
