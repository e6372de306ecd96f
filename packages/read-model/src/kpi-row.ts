import { NO_MOVIE_KEY, type MovieKpis } from '@cdc/core';
import {
  KPI_DEFINITIONS,
  type BookkeepingColumn,
  type EventKpiColumn,
  type KpiColumn,
  type RowKpiColumn,
} from './kpi-definitions';

/**
 * A movie's counters (what is stored and retracted: the row KPIs, the event counters and the
 * newest event time) and the movie_kpis row derived from them by the KPI definitions.
 */
export type CounterColumn = RowKpiColumn | EventKpiColumn | 'last_event_ts_ms';

/** movie_kpis columns that are counters, in table order. */
export const COUNTER_COLUMNS: readonly CounterColumn[] = [
  ...KPI_DEFINITIONS.filter((d) => d.kind !== 'ratio').map((d) => d.column as CounterColumn),
  'last_event_ts_ms',
];

export type MovieCounters = { movie_key: string; movie_id: string | null } & Record<CounterColumn, number>;

/** A movie_kpis row: the counters plus the derived KPIs and bookkeeping (the gold value plus its key). */
export type MovieKpiRow = MovieKpis & { movie_key: string };

/** The movie_kpis columns, in table order: the key, the movie, every KPI, the bookkeeping. */
export const MOVIE_KPI_COLUMNS: readonly (keyof MovieKpiRow)[] = [
  'movie_key',
  'movie_id',
  ...KPI_DEFINITIONS.map((d): KpiColumn => d.column),
  ...(['updated_at', 'last_event_ts_ms', 'snapshot_version'] satisfies BookkeepingColumn[]),
];

export const movieKeyOf = (movieId: string | null): string => movieId ?? NO_MOVIE_KEY;

export function emptyCounters(movieKey: string): MovieCounters {
  const c = { movie_key: movieKey, movie_id: movieKey === NO_MOVIE_KEY ? null : movieKey } as MovieCounters;
  for (const col of COUNTER_COLUMNS) c[col] = 0;
  return c;
}

/** The counters of a stored movie_kpis row. */
export function countersFromRow(row: Record<string, unknown>): MovieCounters {
  const c = { movie_key: row.movie_key as string, movie_id: row.movie_id as string | null } as MovieCounters;
  for (const col of COUNTER_COLUMNS) c[col] = row[col] as number;
  return c;
}

/** Exact floor(a / b) for non-negative safe integers a and positive b. */
export function floorDiv(a: number, b: number): number {
  let q = Math.floor(a / b);
  if (q * b > a) q -= 1;
  else if ((q + 1) * b <= a) q += 1;
  return q;
}

/**
 * of / per × scale, rounded half-up to `decimals` with integer arithmetic (no binary
 * floating-point surprises: 201/20000 × 100 is 1.01, not 1.00). Null when per is 0. For
 * non-negative `of` (every KPI a ratio reads is).
 */
export function ratio(of: number, per: number, scale: number, decimals = 2): number | null {
  if (per === 0) return null;
  const unit = 10 ** decimals;
  return floorDiv(2 * unit * scale * of + per, 2 * per) / unit;
}

/** `ratio` to 2 decimals (the contract's rates and averages). */
export const ratio2 = (of: number, per: number, scale: number): number | null => ratio(of, per, scale, 2);

/** The movie_kpis row (and gold snapshot) of a movie's counters: ratios derived by the definitions. */
export function kpiRow(c: MovieCounters, updatedAt: number, snapshotVersion: number): MovieKpiRow {
  const row: Record<string, unknown> = { movie_key: c.movie_key, movie_id: c.movie_id };
  for (const d of KPI_DEFINITIONS) {
    row[d.column] =
      d.kind === 'ratio'
        ? ratio(c[d.of as RowKpiColumn], c[d.per as RowKpiColumn], d.scale, d.decimals)
        : c[d.column];
  }
  row.updated_at = updatedAt;
  row.last_event_ts_ms = c.last_event_ts_ms;
  row.snapshot_version = snapshotVersion;
  return row as unknown as MovieKpiRow;
}

/** The MovieKpis gold value of a row (without movie_key, which is the Kafka key). */
export function goldValue(row: MovieKpiRow): MovieKpis {
  const { movie_key: _key, ...value } = row;
  return value;
}
