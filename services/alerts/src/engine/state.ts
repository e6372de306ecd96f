import type { AlertState } from './lifecycle';
import type { SeriesState } from './series';

/**
 * The alert engine's whole state as one plain object (engine.ts): what it has counted per movie,
 * its rate series, the dead letters seen, the alerts; saved by the store (store.ts) and given
 * back after a restart.
 */

/** The subject of the alerts about the whole pipeline (not one movie). */
export const PIPELINE = 'pipeline';

export interface MovieCounters {
  version: number;
  newBookings: number;
  statusChanges: number;
  valid: number;
  total: number;
}

export interface EngineState {
  /**
   * The pipeline this state was learned from (its gold topic): a state of another pipeline (another
   * TOPIC_PREFIX on the same database file) is not restored. Absent in states saved before it was kept.
   */
  pipeline?: string;
  watermark: number | null;
  wallAtWatermark: number | null;
  eventNow: number | null;
  movies: Record<string, MovieCounters>;
  series: Record<string, SeriesState>;
  deadLetters: { total: number | null; recent: [number, number][] };
  alerts: AlertState[];
}

export const emptyEngineState = (): EngineState => ({
  watermark: null,
  wallAtWatermark: null,
  eventNow: null,
  movies: {},
  series: {},
  deadLetters: { total: null, recent: [] },
  alerts: [],
});

/** The key of one rule's series (and alert) for one subject. */
export const seriesKey = (rule: string, subject: string): string => `${rule}|${subject}`;
