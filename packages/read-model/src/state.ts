import type { StoredBooking } from './booking-row';
import { emptyCounters, type MovieCounters } from './kpi-row';

/**
 * The shapes the writer reads and writes: a movie's state (its counters and the reference counts
 * behind its distinct KPIs), the stored state a batch applies on (`StateSource`), and the net
 * result of applying changes (`KpiDelta`) that the writer stores in one transaction.
 */
export interface MovieState {
  counters: MovieCounters;
  /** Valid current bookings per booking_date_only (reference counts behind booking_days). */
  days: Map<string, number>;
  /** Valid current bookings per booking_hour (reference counts behind active_hours). */
  hours: Map<number, number>;
}

export const emptyMovieState = (key: string): MovieState => ({
  counters: emptyCounters(key),
  days: new Map(),
  hours: new Map(),
});

/**
 * Stored state, read by booking and by movie. The writer's source hands out its own cached
 * objects and expects them to be updated in place; it drops them when a transaction fails.
 */
export interface StateSource {
  booking(id: string): StoredBooking | undefined;
  movie(key: string): MovieState | undefined;
}

/** No stored state (a first batch, or a rebuild). */
export const EMPTY_SOURCE: StateSource = {
  booking: () => undefined,
  movie: () => undefined,
};

/** A movie touched by a batch, with the reference counts it changed. */
export interface TouchedMovie {
  state: MovieState;
  dirtyDays: Set<string>;
  dirtyHours: Set<number>;
}

/** What a batch changed: the rows to write and the movies touched. */
export interface KpiDelta {
  /** The new row of every booking a change touched (each carries its `image`), in booking_id order. */
  bookings: StoredBooking[];
  movies: Map<string, TouchedMovie>;
}

export interface PartitionOffset {
  topic: string;
  partition: number;
  nextOffset: number;
}
