import { UsageError } from '@cdc/core';

/**
 * Which input column feeds which booking field. Columns are matched by name, ignoring case and
 * surrounding spaces, so the `raw_movie_bookings` export (lower case, or Snowflake's upper case)
 * works as is; `--map column=field` names a column for a field when the names differ. Columns no
 * field uses are ignored (and listed in the plan).
 */
export const IMPORT_FIELDS = [
  'booking_id',
  'customer_id',
  'movie_id',
  'booking_date',
  'status',
  'ticket_count',
  'ticket_price',
  'total_amount',
  'created_at',
  'updated_at',
] as const;
export type ImportField = (typeof IMPORT_FIELDS)[number];

/** Fields every input must have a column for (a value may still be empty where null is allowed). */
export const REQUIRED_FIELDS: readonly ImportField[] = [
  'booking_id',
  'customer_id',
  'movie_id',
  'booking_date',
  'status',
  'ticket_count',
  'ticket_price',
];

/** `--map` entries: field → column name as written in the input. */
export type ColumnMap = ReadonlyMap<ImportField, string>;

const isField = (s: string): s is ImportField => (IMPORT_FIELDS as readonly string[]).includes(s);
const norm = (s: string): string => s.trim().toLowerCase();

/** Parses `--map` values (`col=field`, repeatable, or comma-separated). UsageError (exit 2) when wrong. */
export function parseColumnMap(entries: readonly string[]): ColumnMap {
  const map = new Map<ImportField, string>();
  const columns = new Set<string>();
  for (const entry of entries.flatMap((e) => e.split(','))) {
    if (entry.trim() === '') continue;
    const eq = entry.lastIndexOf('=');
    const column = eq > 0 ? entry.slice(0, eq).trim() : '';
    const field = eq > 0 ? norm(entry.slice(eq + 1)) : '';
    if (column === '' || field === '') {
      throw new UsageError(`--map takes column=field (e.g. --map price=ticket_price), got '${entry}'`);
    }
    if (!isField(field)) {
      throw new UsageError(`--map ${entry}: unknown field '${field}' (fields: ${IMPORT_FIELDS.join(', ')})`);
    }
    if (map.has(field)) throw new UsageError(`--map names two columns for ${field}`);
    if (columns.has(norm(column))) throw new UsageError(`--map maps column '${column}' twice`);
    map.set(field, column);
    columns.add(norm(column));
  }
  return map;
}

export interface ColumnBinding {
  /** Index of each field's column in a row (absent: the input has no column for it). */
  index: Partial<Record<ImportField, number>>;
  /** Columns no field uses. */
  ignored: string[];
  /** How many columns a row must have (CSV). */
  width: number;
}

/**
 * Binds the header's columns to fields: a field takes the column `--map` names for it, else the
 * column with its own name. UsageError (exit 2) for a missing required column, a mapped column the
 * header does not have, or two columns with one name.
 */
export function bindColumns(header: readonly string[], map: ColumnMap, source: string): ColumnBinding {
  const byName = new Map<string, number>();
  header.forEach((name, i) => {
    const key = norm(name);
    if (key === '') return;
    if (byName.has(key)) throw new UsageError(`${source}: the header has two columns named '${name.trim()}'`);
    byName.set(key, i);
  });
  const index: Partial<Record<ImportField, number>> = {};
  const used = new Set<number>();
  for (const [field, column] of map) {
    const i = byName.get(norm(column));
    if (i === undefined) {
      throw new UsageError(
        `--map ${column}=${field}: ${source} has no column '${column}' (columns: ${header.join(', ')})`,
      );
    }
    index[field] = i;
    used.add(i);
  }
  for (const field of IMPORT_FIELDS) {
    if (index[field] !== undefined) continue;
    const i = byName.get(field);
    // A column already mapped to another field is not taken by name as well.
    if (i !== undefined && !used.has(i)) {
      index[field] = i;
      used.add(i);
    }
  }
  const missing = REQUIRED_FIELDS.filter((f) => index[f] === undefined);
  if (missing.length > 0) {
    throw new UsageError(
      `${source} has no ${missing.join(', ')} column${missing.length > 1 ? 's' : ''} ` +
        `(columns: ${header.join(', ') || 'none'}); name them in the header or use --map column=field`,
    );
  }
  return {
    index,
    ignored: header.filter((_, i) => !used.has(i)).map((c) => c.trim()),
    width: header.length,
  };
}
