import { CdcError } from '@cdc/core';
import {
  ROW_KPIS,
  type CategoryField,
  type DistinctField,
  type MovieState,
  type RowKpi,
  type StoredBooking,
  type TouchedMovie,
} from '@cdc/read-model';

/**
 * What one booking row contributes to its movie's row KPIs, generated once from the read model's
 * KPI definitions (`ROW_KPIS`): adding a row KPI is its entry in KPI_DEFINITIONS plus its column,
 * nothing here. Counts and sums go to the movie's counters; a distinct count keeps reference
 * counts per value (the movie's `days` and `hours`, stored in movie_day_counts and
 * movie_hour_counts) and counts a value when its first row arrives and when its last one leaves.
 *
 * Why generated code (`new Function`) and not a loop over the definitions: this is the hottest
 * code of the aggregator — every applied change retracts the old row and adds the new one, and
 * the rebuild adds every final row. Generated once when this module loads, it is the function one
 * would write by hand (literal property names, the definitions' conditions as nested branches, no
 * closure call or array per definition), so V8 compiles it to the same machine code, and it
 * allocates nothing. The source only ever contains column and field names checked to be plain
 * identifiers and category values checked to be plain words (`checkDefinitions`), as strings.
 * The unit tests check it against the definitions executed plainly (`evaluateKpis`), definition
 * by definition (test/unit/kpi-definitions.test.ts), and the differential test against SQL.
 */
export type Contribute = (m: TouchedMovie, row: StoredBooking, sign: 1 | -1) => void;

/**
 * Where a distinct count over a field keeps its reference counts: a map of the movie's state and
 * the set of values a batch changed (the writer stores those). A new distinct field needs a
 * reference-count table of its own in the read model (a compile-time check: this map names every
 * `DistinctField`).
 */
const REFERENCE_COUNTS: Record<
  DistinctField,
  { counts: keyof MovieState & ('days' | 'hours'); dirty: keyof TouchedMovie & ('dirtyDays' | 'dirtyHours') }
> = {
  booking_date_only: { counts: 'days', dirty: 'dirtyDays' },
  booking_hour: { counts: 'hours', dirty: 'dirtyHours' },
};

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

const invalid = (what: string): CdcError =>
  new CdcError('INTERNAL', `KPI definitions (the aggregator's contribution): ${what}`);

function name(n: string): string {
  if (!IDENTIFIER.test(n)) throw invalid(`${JSON.stringify(n)} is not a plain column or field name`);
  return n;
}

/** One definition's statement: `c` is the movie's counters, `s` its state, `m` the touched movie. */
function statement(d: RowKpi, distinctFields: Set<string>): string {
  const column = name(d.column);
  const m = d.measure;
  switch (m.kind) {
    case 'count':
      return `c.${column} += sign;`;
    case 'sum':
      return `c.${column} += sign * b.${name(m.field)};`;
    case 'distinct': {
      // The reference counts hold the valid rows, one table per field.
      if (d.counts !== 'valid') throw invalid(`${column}: a distinct count counts the valid rows only`);
      if (distinctFields.has(m.field)) throw invalid(`${column}: ${m.field} is counted distinct twice`);
      distinctFields.add(m.field);
      const { counts, dirty } = REFERENCE_COUNTS[m.field];
      const field = name(m.field);
      return [
        `{ const k = b.${field}; const n = s.${counts}.get(k) ?? 0; s.${counts}.set(k, n + sign); m.${dirty}.add(k);`,
        `  if (sign === 1) { if (n === 0) c.${column} += 1; } else if (n === 1) c.${column} -= 1; }`,
      ].join('\n');
    }
  }
}

/** The body of the contribution of `defs` (row KPIs), as generated: see `buildContribution`. */
export function contributionSource(defs: readonly RowKpi[]): string {
  const all: string[] = [];
  const valid: string[] = [];
  const invalidRows: string[] = [];
  // Valid rows with a category value: per field, per value (a switch per field).
  const categories = new Map<CategoryField, Map<string, string[]>>();
  const distinctFields = new Set<string>();
  for (const d of defs) {
    const s = statement(d, distinctFields);
    if (d.counts === 'all') all.push(s);
    else if (d.counts === 'valid') valid.push(s);
    else if (d.counts === 'invalid') invalidRows.push(s);
    else {
      const values = categories.get(d.counts.field) ?? new Map<string, string[]>();
      categories.set(d.counts.field, values);
      const list = values.get(d.counts.value) ?? [];
      values.set(d.counts.value, list);
      list.push(s);
    }
  }
  for (const [field, values] of categories) {
    const cases = [...values].map(
      ([value, list]) => `case ${JSON.stringify(value)}:\n${list.join('\n')}\nbreak;`,
    );
    valid.push(`switch (b.${name(field)}) {\n${cases.join('\n')}\n}`);
  }
  return [
    "'use strict';",
    'const s = m.state;',
    'const c = s.counters;',
    ...all,
    'if (b.is_valid_booking === 1) {',
    ...valid,
    '} else {',
    ...invalidRows,
    '}',
  ].join('\n');
}

/** Adds (sign 1) or retracts (sign -1) one current row's contribution to the row KPIs of `defs`. */
export function buildContribution(defs: readonly RowKpi[]): Contribute {
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- generated once from the definitions (see above)
  return new Function('m', 'b', 'sign', contributionSource(defs)) as Contribute;
}

/**
 * Adds (sign 1) or retracts (sign -1) one current (not deleted) row's contribution to its movie:
 * every row KPI of the definitions. The movie's other counters (event counters, last event time)
 * are the applier's (apply.ts).
 */
export const contribute: Contribute = buildContribution(ROW_KPIS);
