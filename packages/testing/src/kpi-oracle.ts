import type { Client } from 'pg';
import { KPI_DEFINITIONS } from '@cdc/read-model';

/**
 * The KPIs of the source table computed by SQL in PostgreSQL from the contract's definitions:
 * the oracle of the tests that capture from a database (the source table is the truth), and how
 * the pipeline's KPIs (the read model's `movie_kpis`, or the dashboard's `/api/kpis`) are
 * compared with it.
 */
/** The contract's per-movie KPIs over the current rows (every KPI but the event counters). */
export const ORACLE_SQL = `
WITH b AS (
  SELECT *, coalesce(movie_id, '(none)') AS movie_key,
    (customer_id IS NOT NULL AND movie_id IS NOT NULL AND ticket_count > 0 AND ticket_price > 0
      AND booking_date <= updated_at) AS v
  FROM raw_movie_bookings
)
SELECT movie_key,
  count(*)::int AS total_bookings,
  count(*) FILTER (WHERE v)::int AS valid_bookings,
  count(*) FILTER (WHERE NOT v)::int AS invalid_bookings,
  round(count(*) FILTER (WHERE v) * 100.0 / count(*), 2)::float8 AS data_quality_score,
  count(*) FILTER (WHERE v AND status = 'BOOKED')::int AS active_bookings,
  count(*) FILTER (WHERE v AND status = 'CANCELLED')::int AS cancelled_bookings,
  coalesce(sum(ticket_count) FILTER (WHERE v), 0)::int AS total_tickets,
  coalesce(sum(total_amount * 100) FILTER (WHERE v AND status = 'BOOKED'), 0)::bigint AS total_active_revenue_cents,
  coalesce(sum(total_amount * 100) FILTER (WHERE v AND status = 'CANCELLED'), 0)::bigint AS total_lost_revenue_cents,
  coalesce(sum(total_amount * 100) FILTER (WHERE v), 0)::bigint AS total_gross_revenue_cents,
  count(*) FILTER (WHERE v AND ticket_count = 1)::int AS single_bookings,
  count(*) FILTER (WHERE v AND ticket_count BETWEEN 2 AND 4)::int AS group_bookings,
  count(*) FILTER (WHERE v AND ticket_count >= 5)::int AS large_group_bookings,
  count(*) FILTER (WHERE v AND ticket_price < 10)::int AS budget_bookings,
  count(*) FILTER (WHERE v AND ticket_price BETWEEN 10 AND 20)::int AS standard_bookings,
  count(*) FILTER (WHERE v AND ticket_price > 20)::int AS premium_bookings,
  round(count(*) FILTER (WHERE v AND status = 'CANCELLED') * 100.0 / nullif(count(*) FILTER (WHERE v), 0), 2)::float8 AS cancellation_rate_percent,
  round(count(*) FILTER (WHERE v AND status = 'BOOKED') * 100.0 / nullif(count(*) FILTER (WHERE v), 0), 2)::float8 AS active_rate_percent,
  round(sum(total_amount * 100) FILTER (WHERE v AND status = 'BOOKED') / nullif(count(*) FILTER (WHERE v AND status = 'BOOKED'), 0), 2)::float8 AS avg_revenue_per_active_booking_cents,
  count(DISTINCT (booking_date AT TIME ZONE 'UTC')::date) FILTER (WHERE v)::int AS booking_days,
  count(DISTINCT extract(hour FROM booking_date AT TIME ZONE 'UTC')) FILTER (WHERE v)::int AS active_hours
FROM b GROUP BY movie_key ORDER BY movie_key`;

export type KpiRow = Record<string, number | string | null>;

/** The event counters: what happened, not what the table holds now (the SQL above cannot know them). */
export const EVENT_KPI_COLUMNS = ['new_bookings', 'updates', 'status_changes', 'deleted_bookings'] as const;

/** ORACLE_SQL's rows by movie. */
export async function stateOracle(db: Client): Promise<Map<string, KpiRow>> {
  const rows = (await db.query<KpiRow>(ORACLE_SQL)).rows;
  return new Map(rows.map((r) => [String(r.movie_key), r]));
}

/** Every KPI column of the read model (movie_kpis, /api/kpis). */
export const KPI_COLUMNS: readonly string[] = KPI_DEFINITIONS.map((d) => d.column);

const isRatio = (c: string): boolean =>
  c.endsWith('_percent') || c.startsWith('avg') || c === 'data_quality_score';

/**
 * Where the pipeline's KPIs differ from the oracle's, over `columns`: one line per difference. A
 * movie the source no longer has must read zeros (and no ratios).
 */
export function kpiDifferences(
  actual: Map<string, KpiRow>,
  expected: Map<string, KpiRow>,
  columns: readonly string[],
): string[] {
  const out: string[] = [];
  const num = (v: number | string | null | undefined) => (v === null || v === undefined ? null : Number(v));
  for (const key of new Set([...actual.keys(), ...expected.keys()])) {
    const a = actual.get(key);
    const e = expected.get(key);
    for (const c of columns) {
      const got = num(a?.[c]);
      const want = e ? num(e[c]) : isRatio(c) ? null : 0;
      if (got !== want) out.push(`${key}.${c}: pipeline ${String(got)}, source ${String(want)}`);
    }
  }
  return out;
}
