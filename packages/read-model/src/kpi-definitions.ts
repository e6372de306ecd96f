import { CdcError, type MovieKpis } from '@cdc/core';
import type { StateColumn } from './booking-row';

/**
 * The KPI definitions, as data: one list, in movie_kpis column order. Everything else that
 * computes a KPI is derived from it or checked against it:
 * - the movie_kpis DDL and column lists (schema.ts) and the derived KPIs of a row (`kpiRow`);
 * - the UI's KPIs over filtered rows: SQL generated from the list (kpi-sql.ts);
 * - the plain meaning of each definition, executable (`evaluateKpis`, kpi-eval.ts);
 * - the aggregator's per-row contribution (its kpi.ts: code generated once from the row KPIs,
 *   used live and by the rebuild), checked against `evaluateKpis` by a unit test, definition by
 *   definition; the event counters are counted by its one applier (apply.ts).
 *
 * A KPI is one of:
 * - a row KPI: over the current (not deleted) rows of a movie that it `counts` — all, valid,
 *   invalid, or the valid rows whose category field has a value —, a `measure`: their count,
 *   the sum of a field, or the number of distinct values of a field;
 * - a ratio of two row KPIs: of ÷ per × scale, rounded half-up to `decimals` with integer
 *   arithmetic (exact), null when `per` is 0;
 * - an event counter: the number of applied changes of a kind (they only grow; a filter on rows
 *   cannot answer them).
 *
 * To add a KPI: add it here (and a field to schemas/MovieKpis.avsc and core's MovieKpis; a
 * compile-time check below fails until they agree). A row KPI or a ratio needs nothing else; an
 * event counter of a new kind, or a distinct count over a new field, needs code (README.md).
 */
export type CategoryField = Extract<
  StateColumn,
  'booking_status_category' | 'booking_size_category' | 'price_category'
>;
export type SummedField = Extract<
  StateColumn,
  'ticket_count' | 'total_amount_cents' | 'active_revenue_cents' | 'lost_revenue_cents'
>;
export type DistinctField = Extract<StateColumn, 'booking_date_only' | 'booking_hour'>;

/** Which current rows a row KPI counts. A category value counts valid rows only. */
export type KpiRows = 'all' | 'valid' | 'invalid' | { field: CategoryField; value: string };

export type KpiMeasure =
  { kind: 'count' } | { kind: 'sum'; field: SummedField } | { kind: 'distinct'; field: DistinctField };

export interface RowKpi<C extends string = string> {
  kind: 'rows';
  column: C;
  counts: KpiRows;
  measure: KpiMeasure;
}

export interface RatioKpi<C extends string = string> {
  kind: 'ratio';
  column: C;
  of: string;
  per: string;
  scale: number;
  decimals: number;
}

/** The kinds of applied change an event counter counts (see the contract's event counters). */
export type KpiEvent = 'create' | 'update' | 'status-change' | 'delete';

export interface EventKpi<C extends string = string> {
  kind: 'event';
  column: C;
  event: KpiEvent;
}

export type KpiDefinition = RowKpi | RatioKpi | EventKpi;

const count = <C extends string>(column: C, counts: KpiRows): RowKpi<C> => ({
  kind: 'rows',
  column,
  counts,
  measure: { kind: 'count' },
});
const sum = <C extends string>(column: C, field: SummedField): RowKpi<C> => ({
  kind: 'rows',
  column,
  counts: 'valid',
  measure: { kind: 'sum', field },
});
const distinct = <C extends string>(column: C, field: DistinctField): RowKpi<C> => ({
  kind: 'rows',
  column,
  counts: 'valid',
  measure: { kind: 'distinct', field },
});
const percent = <C extends string>(column: C, of: string, per: string): RatioKpi<C> => ({
  kind: 'ratio',
  column,
  of,
  per,
  scale: 100,
  decimals: 2,
});
const event = <C extends string>(column: C, e: KpiEvent): EventKpi<C> => ({
  kind: 'event',
  column,
  event: e,
});
const status = (value: string) => ({ field: 'booking_status_category', value }) as const;
const size = (value: string) => ({ field: 'booking_size_category', value }) as const;
const price = (value: string) => ({ field: 'price_category', value }) as const;

export const KPI_DEFINITIONS = [
  count('total_bookings', 'all'),
  count('valid_bookings', 'valid'),
  count('invalid_bookings', 'invalid'),
  percent('data_quality_score', 'valid_bookings', 'total_bookings'),
  count('active_bookings', status('ACTIVE')),
  count('cancelled_bookings', status('INACTIVE')),
  sum('total_tickets', 'ticket_count'),
  sum('total_active_revenue_cents', 'active_revenue_cents'),
  sum('total_lost_revenue_cents', 'lost_revenue_cents'),
  // Over every valid row, so it includes rows of an UNKNOWN status: it can exceed active + lost.
  sum('total_gross_revenue_cents', 'total_amount_cents'),
  count('single_bookings', size('SINGLE')),
  count('group_bookings', size('GROUP')),
  count('large_group_bookings', size('LARGE_GROUP')),
  count('budget_bookings', price('BUDGET')),
  count('standard_bookings', price('STANDARD')),
  count('premium_bookings', price('PREMIUM')),
  percent('cancellation_rate_percent', 'cancelled_bookings', 'valid_bookings'),
  percent('active_rate_percent', 'active_bookings', 'valid_bookings'),
  {
    kind: 'ratio',
    column: 'avg_revenue_per_active_booking_cents',
    of: 'total_active_revenue_cents',
    per: 'active_bookings',
    scale: 1,
    decimals: 2,
  } satisfies RatioKpi<'avg_revenue_per_active_booking_cents'>,
  distinct('booking_days', 'booking_date_only'),
  distinct('active_hours', 'booking_hour'),
  event('new_bookings', 'create'),
  event('status_changes', 'status-change'),
  event('updates', 'update'),
  event('deleted_bookings', 'delete'),
] as const;

type Definition = (typeof KPI_DEFINITIONS)[number];
export type KpiColumn = Definition['column'];
export type RowKpiColumn = Extract<Definition, { kind: 'rows' }>['column'];
export type RatioKpiColumn = Extract<Definition, { kind: 'ratio' }>['column'];
export type EventKpiColumn = Extract<Definition, { kind: 'event' }>['column'];

/** movie_kpis columns that are not KPIs: when the row was written and what it reflects. */
export type BookkeepingColumn = 'updated_at' | 'last_event_ts_ms' | 'snapshot_version';

// The list and the gold record (core's MovieKpis, from schemas/MovieKpis.avsc) name the same
// fields: a compile-time check.
type GoldFields = Exclude<keyof MovieKpis, 'movie_id'>;
const listMatchesGold: [KpiColumn | BookkeepingColumn] extends [GoldFields]
  ? [GoldFields] extends [KpiColumn | BookkeepingColumn]
    ? true
    : false
  : false = true;
void listMatchesGold;

export const ROW_KPIS: readonly RowKpi<RowKpiColumn>[] = KPI_DEFINITIONS.filter(
  (d): d is Extract<Definition, { kind: 'rows' }> => d.kind === 'rows',
);
export const RATIO_KPIS: readonly RatioKpi<RatioKpiColumn>[] = KPI_DEFINITIONS.filter(
  (d): d is Extract<Definition, { kind: 'ratio' }> => d.kind === 'ratio',
);
export const EVENT_KPIS: readonly EventKpi<EventKpiColumn>[] = KPI_DEFINITIONS.filter(
  (d): d is Extract<Definition, { kind: 'event' }> => d.kind === 'event',
);

const CATEGORY_VALUE = /^[A-Z_]{1,32}$/;

/**
 * Checks the list's own rules (run once when this module loads): unique columns, ratios over row
 * KPIs defined before them, category values that are plain words (they go into SQL text).
 */
export function checkDefinitions(list: readonly KpiDefinition[]): void {
  const seen = new Map<string, KpiDefinition>();
  const fail = (msg: string): never => {
    throw new CdcError('INTERNAL', `KPI definitions: ${msg}`);
  };
  for (const d of list) {
    if (seen.has(d.column)) fail(`${d.column} is defined twice`);
    if (d.kind === 'ratio') {
      for (const operand of [d.of, d.per]) {
        if (seen.get(operand)?.kind !== 'rows')
          fail(`${d.column}: ${operand} is not a row KPI defined before it`);
      }
      if (!(d.scale > 0) || !Number.isInteger(d.decimals) || d.decimals < 0 || d.decimals > 6) {
        fail(`${d.column}: scale must be positive and decimals a whole number from 0 to 6`);
      }
    }
    if (d.kind === 'rows' && typeof d.counts === 'object' && !CATEGORY_VALUE.test(d.counts.value)) {
      fail(`${d.column}: category value ${JSON.stringify(d.counts.value)} is not a plain upper-case word`);
    }
    seen.set(d.column, d);
  }
}

checkDefinitions(KPI_DEFINITIONS);
