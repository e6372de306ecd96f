import type { EnrichedBooking, EnrichedBookingChange } from '@cdc/core';
import { versionOrder, type KpiDelta, type MovieCounters, type RowVersion } from '@cdc/read-model';

/**
 * The contract's "which change wins" and the event counters, in one place: `ChangeApplier`
 * applies changes over a row store (`RowStore`), which keeps each booking's current row and its
 * KPI contribution. Two row stores use it: the live one (live-rows.ts: the read model's bookings
 * table through the writer's caches, contributions retracted and added per change) and the
 * rebuild's (rebuild/replay-rows.ts: each booking's newest change kept in memory, the KPIs
 * computed once from the final rows). The differential test checks that both give the same
 * database.
 *
 * The rule (through the read model's `versionOrder`, which compares (version, derivation epoch)
 * with the current row's): a newer version replaces the row and is an event; the same version
 * under a newer derivation epoch (a backfill's re-derivation) replaces the row the same way — the
 * time zone, validity or categories may differ — but is no event; anything else (a duplicate, a
 * stale version or derivation, tombstones included) is skipped. A delete leaves a tombstone.
 */

/** What the version rule reads of a booking image. */
export type ImageHead = Pick<EnrichedBooking, 'booking_id' | 'movie_id' | 'status' | 'version'>;

/**
 * What the version rule and the event counters read of a change: a full silver change (live), or
 * only its head (the rebuild decodes no more until it knows a change is a booking's final one).
 */
export interface ChangeHead {
  op: EnrichedBookingChange['op'];
  ts_ms: number;
  derivation_epoch: number;
  before: ImageHead | null;
  after: ImageHead | null;
}

/**
 * The version of a change: after.version for c/u/r, before.version + 1 for d. Null when the
 * change lacks the image its op needs (malformed: it cannot be applied).
 */
export function changeVersion(change: Pick<ChangeHead, 'op' | 'before' | 'after'>): number | null {
  if (change.op === 'd') return change.before ? change.before.version + 1 : null;
  return change.after ? change.after.version : null;
}

/** The booking a change is about. */
export const changeBookingId = (change: Pick<ChangeHead, 'op' | 'before' | 'after'>): string | undefined =>
  (change.op === 'd' ? change.before : change.after)?.booking_id;

/**
 * Where the applier keeps the current rows. `R` is a store's row (a version at least), `C` the
 * changes it takes, `P` what comes with each change besides (the rebuild: its Avro bytes).
 */
export interface RowStore<C extends ChangeHead, R extends RowVersion, P> {
  /** The booking's current row (a tombstone included); undefined when it has none. */
  current(id: string): R | undefined;
  /** A current row's status, undefined for a tombstone. */
  liveStatus(row: R): string | undefined;
  /**
   * Makes `change` the booking's current row (a tombstone for a delete): the old row's KPI
   * contribution leaves its movie, the new row's joins its own, and every movie it touches is
   * stamped with the change's ts_ms (last_event_ts_ms). Returns the counters of the movie an event
   * of this change counts for: the new row's, or for a delete the movie of its before image.
   */
  replace(
    id: string,
    current: R | undefined,
    change: C,
    version: number,
    epoch: number,
    payload: P,
  ): MovieCounters;
  /** The rows to write and the movies touched. The store must not be used afterwards. */
  finish(): KpiDelta;
}

export type ApplyOutcome = 'applied' | 'skipped' | 'malformed';

/** How many changes did what, and the freshness they carry. */
export interface ApplyTally {
  /** Changes that changed a row: version advances and re-derivations. */
  applied: number;
  /** Of the applied: re-derivations (same version, newer derivation epoch; no event). */
  rederived: number;
  skipped: number;
  malformed: number;
  /** Largest event time (ts_ms) among applied events (re-derivations excluded), 0 when none. */
  maxEventTsMs: number;
}

/** What a batch of changes amounts to: the rows and movies to write, and its tally. */
export interface BatchDelta extends KpiDelta, ApplyTally {}

export class ChangeApplier<C extends ChangeHead, R extends RowVersion, P = void> {
  private applied = 0;
  private rederived = 0;
  private skipped = 0;
  private malformed = 0;
  private maxEventTsMs = 0;

  constructor(private readonly rows: RowStore<C, R, P>) {}

  /** Applies one change (see the module's doc): its outcome. */
  apply(change: C, payload: P): ApplyOutcome {
    const version = changeVersion(change);
    const id = changeBookingId(change);
    if (version === null || id === undefined) {
      this.malformed += 1;
      return 'malformed';
    }
    const current = this.rows.current(id);
    const epoch = change.derivation_epoch;
    // A re-derivation is no event: it replaces the row, never moves an event counter.
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
    const op = change.op;
    // The status an update changes from: its before image's, or without one the current row's
    // (read before the store replaces it).
    let from: string | undefined;
    if (event && op === 'u') {
      from = change.before?.status ?? (current === undefined ? undefined : this.rows.liveStatus(current));
    }
    const movie = this.rows.replace(id, current, change, version, epoch, payload);
    if (event) {
      // The event counters (KPI_DEFINITIONS' event KPIs); snapshot reads (op r) are no event.
      if (op === 'c') movie.new_bookings += 1;
      else if (op === 'u') {
        movie.updates += 1;
        if (from !== undefined && from !== (change.after as ImageHead).status) movie.status_changes += 1;
      } else if (op === 'd') movie.deleted_bookings += 1;
      // A re-derived record carries its old event time: it says nothing about freshness.
      const ts = change.ts_ms;
      if (ts > this.maxEventTsMs) this.maxEventTsMs = ts;
    }
    this.applied += 1;
    return 'applied';
  }

  /** The net result. The applier must not be used afterwards. */
  finish(): BatchDelta {
    const { bookings, movies } = this.rows.finish();
    return { bookings, movies, ...this.tally() };
  }

  protected tally(): ApplyTally {
    return {
      applied: this.applied,
      rederived: this.rederived,
      skipped: this.skipped,
      malformed: this.malformed,
      maxEventTsMs: this.maxEventTsMs,
    };
  }
}
