import type { StateColumn, StoredBooking } from './booking-row';
import {
  RATIO_KPIS,
  ROW_KPIS,
  type KpiRows,
  type RatioKpiColumn,
  type RowKpi,
  type RowKpiColumn,
} from './kpi-definitions';
import { ratio } from './kpi-row';

/**
 * The KPI definitions, executed as plainly as they read: for a set of rows, each row KPI filters
 * the rows it counts and measures them; each ratio divides two of those. No retraction, no
 * caching, no speed: this is the meaning the fast paths (the aggregator's contribution generated
 * from the definitions, with retraction live and without in the rebuild's replay) are tested
 * against, definition by definition, and the generated SQL too.
 */
export type KpiFacts = Pick<StoredBooking, StateColumn>;

export type EvaluatedKpis = Record<RowKpiColumn, number> & Record<RatioKpiColumn, number | null>;

/** True when a row KPI with these `counts` counts this (current) row. */
export function rowCounted(counts: KpiRows, row: KpiFacts): boolean {
  if (counts === 'all') return true;
  if (counts === 'valid') return row.is_valid_booking === 1;
  if (counts === 'invalid') return row.is_valid_booking !== 1;
  return row.is_valid_booking === 1 && row[counts.field] === counts.value;
}

/** One row KPI over a set of current rows (tombstones are not current: they are left out). */
export function measure(def: RowKpi, rows: readonly KpiFacts[]): number {
  const counted = rows.filter((r) => r.deleted === 0 && rowCounted(def.counts, r));
  const m = def.measure;
  switch (m.kind) {
    case 'count':
      return counted.length;
    case 'sum':
      return counted.reduce((total, r) => total + r[m.field], 0);
    case 'distinct':
      return new Set(counted.map((r) => r[m.field])).size;
  }
}

/** Every row KPI and ratio over a movie's current rows (event counters count changes, not rows). */
export function evaluateKpis(rows: readonly KpiFacts[]): EvaluatedKpis {
  const out: Record<string, number | null> = {};
  for (const d of ROW_KPIS) out[d.column] = measure(d, rows);
  for (const d of RATIO_KPIS) out[d.column] = ratio(out[d.of] ?? 0, out[d.per] ?? 0, d.scale, d.decimals);
  return out as EvaluatedKpis;
}
