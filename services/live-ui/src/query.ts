import { z } from 'zod';
import { NO_MOVIE_KEY } from '@cdc/core';
import type { BookingColumn } from './queries';

/**
 * Query-parameter validation for the JSON and CSV API. Every parameter is checked; an unknown
 * one is an error too (a typo should not silently return unfiltered data). Pure: no I/O.
 */
export type QueryResult<T> = { ok: true; value: T } | { ok: false; reason: string };

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const STATUS_RE = /^[A-Za-z_]{1,32}$/;
const MOVIE_RE = /^[A-Za-z0-9._:-]{1,64}$/;

/** A calendar date YYYY-MM-DD that exists (2025-02-30 does not). */
const isoDate = z
  .string()
  .regex(DATE_RE, 'must be a date YYYY-MM-DD')
  .refine((s) => {
    const d = new Date(`${s}T00:00:00Z`);
    return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
  }, 'is not a calendar date');

/** A comma-separated list (the parameter may also be repeated) of items matching `re`. */
const list = (re: RegExp, what: string, max: number, also?: string) =>
  z
    .string()
    .transform((s) => s.split(',').map((x) => x.trim()))
    .refine((xs) => xs.every((x) => x.length > 0), 'has an empty item')
    .refine((xs) => xs.length <= max, `has more than ${max} items`)
    .refine((xs) => xs.every((x) => re.test(x) || x === also), `items must be ${what}`)
    .transform((xs) => [...new Set(xs)]);

export const filterShape = {
  from: isoDate.optional(),
  to: isoDate.optional(),
  status: list(STATUS_RE, 'statuses (letters and _ , up to 32)', 20).optional(),
  movie: list(
    MOVIE_RE,
    `movie ids (letters, digits, . _ : -, up to 64) or ${NO_MOVIE_KEY}`,
    200,
    NO_MOVIE_KEY,
  ).optional(),
};

export interface Filters {
  from?: string;
  to?: string;
  status?: string[];
  movie?: string[];
}

const checkRange = (f: Filters) => f.from === undefined || f.to === undefined || f.from <= f.to;
const rangeMessage = { message: 'from must not be after to', path: ['from'] };

export const filtersSchema = z.object(filterShape).strict().refine(checkRange, rangeMessage);

/** Columns the bookings list can be sorted by (whitelist: they go into ORDER BY). */
export const SORT_COLUMNS = [
  'booking_id',
  'movie_id',
  'customer_id',
  'booking_date',
  'status',
  'ticket_count',
  'ticket_price_cents',
  'total_amount_cents',
  'active_revenue_cents',
  'lost_revenue_cents',
  'is_valid_booking',
  'version',
  'updated_at',
] as const satisfies readonly BookingColumn[];
export type SortColumn = (typeof SORT_COLUMNS)[number];

const sortShape = {
  sort: z.enum(SORT_COLUMNS).default('booking_date'),
  order: z.enum(['asc', 'desc']).default('desc'),
};

export const MAX_PAGE_SIZE = 500;

export const bookingsQuerySchema = z
  .object({
    ...filterShape,
    ...sortShape,
    page: z.coerce.number().int().min(1).max(1_000_000).default(1),
    pageSize: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(50),
  })
  .strict()
  .refine(checkRange, rangeMessage);
export type BookingsQuery = z.infer<typeof bookingsQuerySchema>;

export const csvQuerySchema = z
  .object({ ...filterShape, ...sortShape })
  .strict()
  .refine(checkRange, rangeMessage);
export type CsvQuery = z.infer<typeof csvQuerySchema>;

/** Websocket upgrade: `?since=<version>&epoch=<id>` to resume, both or neither. */
export const wsQuerySchema = z
  .object({
    since: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
    epoch: z
      .string()
      .regex(/^[a-z0-9]{1,32}$/, 'must be the epoch id the server sent')
      .optional(),
  })
  .strict()
  .refine((q) => (q.since === undefined) === (q.epoch === undefined), {
    message: 'since and epoch go together',
    path: ['since'],
  });
export type WsQuery = z.infer<typeof wsQuerySchema>;

export const emptyQuerySchema = z.object({}).strict();

/**
 * Validates URL search parameters. A parameter given twice is joined with ',' for lists and
 * refused for scalars; the reason names the parameter and what is wrong.
 */
export function parseQuery<S extends z.ZodTypeAny>(
  schema: S,
  params: URLSearchParams,
  listParams: readonly string[] = ['status', 'movie'],
): QueryResult<z.output<S>> {
  const raw: Record<string, string> = {};
  for (const key of new Set(params.keys())) {
    const values = params.getAll(key);
    if (values.length > 1 && !listParams.includes(key)) {
      return { ok: false, reason: `${key}: given ${values.length} times, expected once` };
    }
    raw[key] = values.join(',');
  }
  const r = schema.safeParse(raw);
  if (r.success) return { ok: true, value: r.data as z.output<S> };
  const reason = r.error.issues
    .map((i) => {
      if (i.code === 'unrecognized_keys') return `unknown parameter(s): ${i.keys.join(', ')}`;
      const name = i.path.join('.') || 'query';
      return `${name}: ${i.message}`;
    })
    .join('; ');
  return { ok: false, reason };
}

/** `WHERE` clause over current (non-deleted) booking rows for the filters; values as parameters. */
export function whereClause(f: Filters): { sql: string; params: (string | number)[] } {
  const parts = ['deleted = 0'];
  const params: (string | number)[] = [];
  if (f.from !== undefined) {
    parts.push('booking_date_only >= ?');
    params.push(f.from);
  }
  if (f.to !== undefined) {
    parts.push('booking_date_only <= ?');
    params.push(f.to);
  }
  if (f.status && f.status.length > 0) {
    parts.push(`status IN (${f.status.map(() => '?').join(', ')})`);
    params.push(...f.status);
  }
  if (f.movie && f.movie.length > 0) {
    const ids = f.movie.filter((m) => m !== NO_MOVIE_KEY);
    const or: string[] = [];
    if (ids.length > 0) {
      or.push(`movie_id IN (${ids.map(() => '?').join(', ')})`);
      params.push(...ids);
    }
    if (ids.length < f.movie.length) or.push('movie_id IS NULL');
    parts.push(`(${or.join(' OR ')})`);
  }
  return { sql: `WHERE ${parts.join(' AND ')}`, params };
}

/** `ORDER BY` for a whitelisted column; ties broken by booking_id so pages are stable. */
export function orderClause(sort: SortColumn, order: 'asc' | 'desc'): string {
  if (!(SORT_COLUMNS as readonly string[]).includes(sort)) throw new Error(`not a sort column: ${sort}`);
  const dir = order === 'asc' ? 'ASC' : 'DESC';
  return sort === 'booking_id' ? `ORDER BY booking_id ${dir}` : `ORDER BY ${sort} ${dir}, booking_id ${dir}`;
}

/** True when the filters restrict rows in a way the gold KPIs cannot answer (date or status). */
export const needsRowQuery = (f: Filters): boolean =>
  f.from !== undefined || f.to !== undefined || (f.status !== undefined && f.status.length > 0);
