import { z } from 'zod';
import { NO_MOVIE_KEY } from '@cdc/core';
import { SORT_COLUMNS, type Filters } from '@cdc/read-model';

/**
 * Query-parameter validation for the JSON and CSV API. Every parameter is checked; an unknown
 * one is an error too (a typo should not silently return unfiltered data). What they yield is
 * what the read model's queries take (its `Filters`, sort columns and pages). Pure: no I/O.
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

const checkRange = (f: Filters) => f.from === undefined || f.to === undefined || f.from <= f.to;
const rangeMessage = { message: 'from must not be after to', path: ['from'] };

export const filtersSchema = z.object(filterShape).strict().refine(checkRange, rangeMessage);

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
