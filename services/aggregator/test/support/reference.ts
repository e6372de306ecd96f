import type Database from 'better-sqlite3';
import type { EnrichedBooking, EnrichedBookingChange } from '@cdc/core';
import { RATIO_KPIS, ROW_KPIS } from '@cdc/read-model';

/**
 * Independent oracles for the aggregator's tests, written without the aggregator's code and
 * without the KPI definitions' code (they re-derive the categories from the raw fields, so they
 * also catch a definition or a derivation that is wrong; kpi-definitions.test.ts checks they
 * cover every KPI of the definitions):
 * - `ReferenceModel`: which change wins (version, then derivation epoch) and the event counters,
 *   by brute force over a stream;
 * - `groupByKpis`: every KPI recomputed with one plain GROUP BY over the current booking rows;
 * - `kpiDifferences`: every column of movie_kpis against that GROUP BY.
 */
export interface RefRow {
  version: number;
  epoch: number;
  deleted: boolean;
  image: EnrichedBooking;
  /** The rules version of the record the row came from. */
  rules: string;
}

export interface RefCounters {
  new_bookings: number;
  status_changes: number;
  updates: number;
  deleted_bookings: number;
}

/** What one change did: an event (a newer version), a re-derivation, or a skip and why. */
export type RefOutcome = 'event' | 'rederived' | 'duplicate' | 'stale-version' | 'stale-derivation';

const keyOf = (movieId: string | null) => movieId ?? '(none)';

export class ReferenceModel {
  readonly rows = new Map<string, RefRow>();
  readonly counters = new Map<string, RefCounters>();
  applied = 0;
  skipped = 0;
  rederived = 0;

  /**
   * The contract's table, spelled out: a newer version is an event; the same version under a
   * newer derivation epoch replaces the row and is no event; the rest is skipped.
   */
  apply(ch: EnrichedBookingChange): RefOutcome {
    const image = (ch.op === 'd' ? ch.before : ch.after) as EnrichedBooking;
    const version = ch.op === 'd' ? image.version + 1 : image.version;
    const epoch = ch.derivation_epoch;
    const row: RefRow = { version, epoch, deleted: ch.op === 'd', image, rules: ch.rules_version };
    const stored = this.rows.get(image.booking_id);
    if (stored && stored.version > version) {
      this.skipped++;
      return 'stale-version';
    }
    if (stored && stored.version === version) {
      if (stored.epoch === epoch) {
        this.skipped++;
        return 'duplicate';
      }
      if (stored.epoch > epoch) {
        this.skipped++;
        return 'stale-derivation';
      }
      this.applied++;
      this.rederived++;
      this.rows.set(image.booking_id, row);
      return 'rederived';
    }
    this.applied++;
    this.rows.set(image.booking_id, row);
    const k = keyOf(image.movie_id);
    const c = this.counters.get(k) ?? { new_bookings: 0, status_changes: 0, updates: 0, deleted_bookings: 0 };
    this.counters.set(k, c);
    if (ch.op === 'c') c.new_bookings++;
    if (ch.op === 'd') c.deleted_bookings++;
    if (ch.op === 'u') {
      c.updates++;
      const prev = ch.before?.status ?? (stored && !stored.deleted ? stored.image.status : undefined);
      if (prev !== undefined && prev !== image.status) c.status_changes++;
    }
    return 'event';
  }

  /** The bookings whose current row was derived under the tests' rules 'test-2', for the GROUP BY. */
  testRulesJson(): string {
    const ids: string[] = [];
    for (const [id, row] of this.rows) if (row.rules === 'test-2') ids.push(id);
    return JSON.stringify(ids);
  }
}

/**
 * The expected movie_kpis (KPI columns only) from a plain GROUP BY over the current rows. Its one
 * parameter: a JSON array of the booking_ids whose row was derived under the tests' TEST_RULES
 * rather than the enricher's rules '1' ('test-2': 2–3 tickets GROUP, 4 or more LARGE_GROUP;
 * BUDGET below 12.00, STANDARD to 18.00, PREMIUM above), so a backfill under new rules is checked
 * against categories re-derived here from the raw fields.
 */
export const GROUP_BY_SQL = `
WITH b AS (
  SELECT *, booking_id IN (SELECT value FROM json_each(?)) AS t2 FROM bookings WHERE deleted = 0
),
g AS (
  SELECT COALESCE(movie_id, '(none)') AS movie_key,
    COUNT(*) AS total_bookings,
    SUM(is_valid_booking = 1) AS valid_bookings,
    SUM(is_valid_booking = 0) AS invalid_bookings,
    SUM(is_valid_booking = 1 AND status = 'BOOKED') AS active_bookings,
    SUM(is_valid_booking = 1 AND status = 'CANCELLED') AS cancelled_bookings,
    TOTAL(CASE WHEN is_valid_booking = 1 THEN ticket_count END) AS total_tickets,
    TOTAL(CASE WHEN is_valid_booking = 1 AND status = 'BOOKED' THEN ticket_count * ticket_price_cents END) AS total_active_revenue_cents,
    TOTAL(CASE WHEN is_valid_booking = 1 AND status = 'CANCELLED' THEN ticket_count * ticket_price_cents END) AS total_lost_revenue_cents,
    TOTAL(CASE WHEN is_valid_booking = 1 THEN ticket_count * ticket_price_cents END) AS total_gross_revenue_cents,
    SUM(is_valid_booking = 1 AND ticket_count = 1) AS single_bookings,
    SUM(is_valid_booking = 1 AND ticket_count BETWEEN 2 AND CASE WHEN t2 THEN 3 ELSE 4 END) AS group_bookings,
    SUM(is_valid_booking = 1 AND ticket_count >= CASE WHEN t2 THEN 4 ELSE 5 END) AS large_group_bookings,
    SUM(is_valid_booking = 1 AND ticket_price_cents > 0
      AND ticket_price_cents < CASE WHEN t2 THEN 1200 ELSE 1000 END) AS budget_bookings,
    SUM(is_valid_booking = 1 AND ticket_price_cents
      BETWEEN CASE WHEN t2 THEN 1200 ELSE 1000 END AND CASE WHEN t2 THEN 1800 ELSE 2000 END) AS standard_bookings,
    SUM(is_valid_booking = 1 AND ticket_price_cents > CASE WHEN t2 THEN 1800 ELSE 2000 END) AS premium_bookings,
    COUNT(DISTINCT CASE WHEN is_valid_booking = 1 THEN booking_date_only END) AS booking_days,
    COUNT(DISTINCT CASE WHEN is_valid_booking = 1 THEN booking_hour END) AS active_hours
  FROM b
  GROUP BY 1
)
SELECT g.*,
  CASE WHEN total_bookings > 0 THEN ((20000 * valid_bookings + total_bookings) / (2 * total_bookings)) / 100.0 END AS data_quality_score,
  CASE WHEN valid_bookings > 0 THEN ((20000 * cancelled_bookings + valid_bookings) / (2 * valid_bookings)) / 100.0 END AS cancellation_rate_percent,
  CASE WHEN valid_bookings > 0 THEN ((20000 * active_bookings + valid_bookings) / (2 * valid_bookings)) / 100.0 END AS active_rate_percent,
  CASE WHEN active_bookings > 0 THEN ((200 * CAST(total_active_revenue_cents AS INTEGER) + active_bookings) / (2 * active_bookings)) / 100.0 END AS avg_revenue_per_active_booking_cents
FROM g ORDER BY movie_key`;

/**
 * The KPI columns compared: every row KPI and ratio of the definitions (so a KPI added there and
 * not here shows up as a difference); the oracle's SQL above is written independently of them.
 */
const KPI_COLUMNS = [...ROW_KPIS, ...RATIO_KPIS].map((d) => d.column);

type Row = Record<string, unknown>;

const NULLABLE = new Set<string>(RATIO_KPIS.map((d) => d.column));

/**
 * Every difference between movie_kpis and the GROUP BY (movies with no current row must be all
 * zero). `model`: the reference whose rows say which rules each row was derived under.
 */
export function kpiDifferences(db: Database.Database, model?: ReferenceModel): string[] {
  const rules = model?.testRulesJson() ?? '[]';
  const expected = new Map(
    (db.prepare(GROUP_BY_SQL).all(rules) as Row[]).map((r) => [r.movie_key as string, r]),
  );
  const actual = db.prepare('SELECT * FROM movie_kpis ORDER BY movie_key').all() as Row[];
  const diffs: string[] = [];
  const seen = new Set<string>();
  for (const row of actual) {
    const key = row.movie_key as string;
    seen.add(key);
    const want = expected.get(key);
    for (const col of KPI_COLUMNS) {
      const got = row[col] as number | null;
      // A movie whose bookings all left keeps its row: zero counts, null rates.
      const w = want === undefined ? (NULLABLE.has(col) ? null : 0) : (want[col] as number | null);
      const ok = w === null ? got === null : got === Number(w);
      if (!ok) diffs.push(`${key}.${col}: movie_kpis ${String(got)}, GROUP BY ${String(w)}`);
    }
  }
  for (const key of expected.keys()) if (!seen.has(key)) diffs.push(`${key}: missing from movie_kpis`);
  return diffs;
}

/** Event counters in movie_kpis against the reference model's. */
export function counterDifferences(db: Database.Database, model: ReferenceModel): string[] {
  const rows = db
    .prepare('SELECT movie_key, new_bookings, status_changes, updates, deleted_bookings FROM movie_kpis')
    .all() as Row[];
  const diffs: string[] = [];
  const seen = new Set<string>();
  for (const row of rows) {
    const key = row.movie_key as string;
    seen.add(key);
    const want = model.counters.get(key) ?? {
      new_bookings: 0,
      status_changes: 0,
      updates: 0,
      deleted_bookings: 0,
    };
    for (const [col, v] of Object.entries(want)) {
      if (row[col] !== v) diffs.push(`${key}.${col}: movie_kpis ${String(row[col])}, reference ${v}`);
    }
  }
  for (const key of model.counters.keys()) if (!seen.has(key)) diffs.push(`${key}: no movie_kpis row`);
  return diffs;
}

/**
 * Current rows against the reference model's: the version and derivation epoch, the tombstone
 * flag, the raw fields and every derived field the KPIs read (the reference keeps the image of
 * the record that won, so a row carrying another derivation shows up here).
 */
export function bookingDifferences(db: Database.Database, model: ReferenceModel): string[] {
  const rows = db
    .prepare(
      `SELECT booking_id, version, derivation_epoch, deleted, movie_id, status, ticket_count,
        ticket_price_cents, booking_date_only, booking_hour, day_of_week, is_valid_booking,
        validation_errors, booking_size_category, price_category FROM bookings`,
    )
    .all() as Row[];
  const diffs: string[] = [];
  for (const row of rows) {
    const ref = model.rows.get(row.booking_id as string);
    const want = ref && {
      version: ref.version,
      derivation_epoch: ref.epoch,
      deleted: ref.deleted ? 1 : 0,
      movie_id: ref.image.movie_id,
      status: ref.image.status,
      ticket_count: ref.image.ticket_count,
      ticket_price_cents: ref.image.ticket_price,
      booking_date_only: ref.image.booking_date_only,
      booking_hour: ref.image.booking_hour,
      day_of_week: ref.image.day_of_week,
      is_valid_booking: ref.image.is_valid_booking ? 1 : 0,
      validation_errors: JSON.stringify(ref.image.validation_errors),
      booking_size_category: ref.image.booking_size_category,
      price_category: ref.image.price_category,
    };
    if (!want) diffs.push(`${String(row.booking_id)}: not in the reference`);
    else
      for (const [col, v] of Object.entries(want))
        if (row[col] !== v)
          diffs.push(`${String(row.booking_id)}.${col}: db ${String(row[col])}, reference ${v}`);
  }
  if (rows.length !== model.rows.size)
    diffs.push(`db has ${rows.length} bookings, reference ${model.rows.size}`);
  return diffs;
}
