import { NO_MOVIE_KEY } from '@cdc/core';
import {
  KPI_DEFINITIONS,
  RATIO_KPIS,
  ROW_KPIS,
  type KpiRows,
  type RatioKpi,
  type RowKpi,
  type RowKpiColumn,
} from './kpi-definitions';

/**
 * SQL generated from the KPI definitions: the same KPIs as movie_kpis, recomputed over any set of
 * `bookings` rows (the UI's filtered KPIs and summary). Column names and category values come
 * from the definitions (checked when they load), never from a request; the caller's WHERE clause
 * carries its values as parameters. Rounding is the writer's, exactly: integer division of
 * integer sums, as `ratio` does (a unit test compares both on the same rows).
 */
const quote = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/** The condition for the rows a row KPI counts; null for every row. */
export function countsSql(counts: KpiRows): string | null {
  if (counts === 'all') return null;
  if (counts === 'valid') return 'is_valid_booking = 1';
  if (counts === 'invalid') return 'is_valid_booking = 0';
  return `is_valid_booking = 1 AND ${counts.field} = ${quote(counts.value)}`;
}

/** The aggregate expression of a row KPI over the rows of a query (0 over no rows). */
export function rowKpiSql(def: RowKpi): string {
  const when = countsSql(def.counts);
  const m = def.measure;
  switch (m.kind) {
    case 'count':
      return when === null ? 'COUNT(*)' : `COALESCE(SUM(CASE WHEN ${when} THEN 1 ELSE 0 END), 0)`;
    case 'sum':
      return when === null
        ? `COALESCE(SUM(${m.field}), 0)`
        : `COALESCE(SUM(CASE WHEN ${when} THEN ${m.field} ELSE 0 END), 0)`;
    case 'distinct':
      return when === null
        ? `COUNT(DISTINCT ${m.field})`
        : `COUNT(DISTINCT CASE WHEN ${when} THEN ${m.field} END)`;
  }
}

/**
 * A ratio of two row KPIs (given as SQL expressions), rounded half-up as `ratio` does: integer
 * division of integers (the operands are cast, so a REAL never turns it into a float division).
 */
export function ratioSql(def: RatioKpi, of: string, per: string): string {
  const unit = 10 ** def.decimals;
  const n = `CAST(${of} AS INTEGER)`;
  const d = `CAST(${per} AS INTEGER)`;
  return `CASE WHEN ${d} = 0 THEN NULL ELSE ((${2 * unit * def.scale} * ${n} + ${d}) / (2 * ${d})) / ${unit}.0 END`;
}

const rowKpi = (column: RowKpiColumn): RowKpi => ROW_KPIS.find((d) => d.column === column) as RowKpi;

/** The aggregate expression of one row KPI, by column (e.g. for a chart's series). */
export const rowKpiExpression = (column: RowKpiColumn): string => rowKpiSql(rowKpi(column));

const rowSelect = (): string => ROW_KPIS.map((d) => `${rowKpiSql(d)} AS ${d.column}`).join(',\n    ');

/**
 * Per movie, every KPI over the current rows that `where` (a WHERE clause on `bookings`, with its
 * own parameters) selects, in movie_kpis column order. Event counters count changes, not rows:
 * they come unfiltered from movie_kpis. `updated_at` and `last_event_ts_ms` are the newest of
 * the selected rows' `updated_at` and `event_ts_ms`; there is no snapshot_version.
 */
export function movieKpisSql(where: string): string {
  const columns = KPI_DEFINITIONS.map((d) => {
    if (d.kind === 'rows') return `g.${d.column} AS ${d.column}`;
    if (d.kind === 'ratio') return `${ratioSql(d, `g.${d.of}`, `g.${d.per}`)} AS ${d.column}`;
    return `COALESCE(k.${d.column}, 0) AS ${d.column}`;
  });
  return `SELECT g.movie_key AS movie_key, g.movie_id AS movie_id,
  ${columns.join(',\n  ')},
  g.updated_at AS updated_at, g.last_event_ts_ms AS last_event_ts_ms
FROM (
  SELECT COALESCE(movie_id, ${quote(NO_MOVIE_KEY)}) AS movie_key, movie_id,
    ${rowSelect()},
    MAX(updated_at) AS updated_at, MAX(event_ts_ms) AS last_event_ts_ms
  FROM bookings ${where}
  GROUP BY 1
) AS g
LEFT JOIN movie_kpis AS k ON k.movie_key = g.movie_key
ORDER BY g.movie_key`;
}

/** Every row KPI and ratio over all the current rows that `where` selects, as one row. */
export function totalKpisSql(where: string): string {
  const ratios = RATIO_KPIS.map((d) => `${ratioSql(d, `t.${d.of}`, `t.${d.per}`)} AS ${d.column}`);
  return `SELECT t.*,
  ${ratios.join(',\n  ')}
FROM (
  SELECT ${rowSelect()}
  FROM bookings ${where}
) AS t`;
}
