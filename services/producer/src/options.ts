import { z } from 'zod';
import { assertTimeZone, durationSetting, UsageError } from '@cdc/core';
import { CHANGE_KINDS, type OpMix } from '@cdc/bookings';

/**
 * The producer's command-line options as typed (strings), and how each one's text is parsed and
 * checked on its own (zod): a bad value is a UsageError (exit 2) naming the option and what it
 * must be. How the options combine into a run's settings, and their defaults, is config.ts.
 */
export interface ProduceArgs {
  rate?: string;
  count?: string;
  duration?: string;
  seed?: string;
  movies?: string;
  customers?: string;
  mix?: string;
  dirtyRatio?: string;
  timeZone?: string;
  bookingDays?: string;
  bookingFrom?: string;
  bookingTo?: string;
  scenario?: string;
  batchSize?: string;
  producers?: string;
  opsPort?: string;
  timeScale?: string;
  maxOutage?: string;
}

/** The CLI flag of each setting, for error messages. */
export const FLAGS: Record<keyof ProduceArgs, string> = {
  rate: '--rate',
  count: '--count',
  duration: '--duration',
  seed: '--seed',
  movies: '--movies',
  customers: '--customers',
  mix: '--mix',
  dirtyRatio: '--dirty-ratio',
  timeZone: '--time-zone',
  bookingDays: '--booking-days',
  bookingFrom: '--booking-from',
  bookingTo: '--booking-to',
  scenario: '--scenario',
  batchSize: '--batch-size',
  producers: '--producers',
  opsPort: '--ops-port',
  timeScale: '--time-scale',
  maxOutage: '--max-outage',
};

const wholeNumber = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^-?\d+$/, `must be a whole number from ${min} to ${max}`)
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

/** A duration option above zero, in milliseconds (core's durations: 500ms, 30s, 5m, 1.5h, 1d). */
const positiveDuration = durationSetting({ minMs: 1 });

const fields = {
  rate: z
    .string()
    .trim()
    .transform((s, ctx) => {
      if (s === 'max') return null;
      const n = Number(s);
      if (s === '' || !Number.isFinite(n) || n <= 0 || n > 10_000_000) {
        ctx.addIssue({ code: 'custom', message: "must be a positive number of events per second, or 'max'" });
        return z.NEVER;
      }
      return n;
    }),
  count: wholeNumber(1, Number.MAX_SAFE_INTEGER),
  duration: positiveDuration,
  seed: wholeNumber(0, 0xffffffff),
  movies: wholeNumber(1, 999_999),
  customers: wholeNumber(1, 99_999_999),
  mix: z.string().transform((s, ctx) => {
    const r = parseMix(s);
    if (typeof r === 'string') {
      ctx.addIssue({ code: 'custom', message: r });
      return z.NEVER;
    }
    return r;
  }),
  dirtyRatio: z
    .string()
    .trim()
    .regex(/^\d*\.?\d+$/, 'must be a number from 0 to 1, such as 0.05')
    .transform(Number)
    .pipe(z.number().max(1, 'must be a number from 0 to 1, such as 0.05')),
  timeZone: z.string().refine(
    (tz) => {
      try {
        assertTimeZone(tz);
        return true;
      } catch {
        return false;
      }
    },
    { message: 'must be an IANA time zone such as UTC or Europe/Berlin' },
  ),
  bookingDays: wholeNumber(1, 3650),
  bookingFrom: z.string().transform((s, ctx) => parseInstant(s, ctx)),
  bookingTo: z.string().transform((s, ctx) => parseInstant(s, ctx)),
  scenario: z.string().min(1),
  batchSize: wholeNumber(1, 100_000),
  producers: wholeNumber(1, 16),
  opsPort: wholeNumber(0, 65535),
  timeScale: z
    .string()
    .trim()
    .regex(/^\d*\.?\d+$/, 'must be a number from 0.001 to 10000, such as 20')
    .transform(Number)
    .pipe(
      z
        .number()
        .min(0.001, 'must be a number from 0.001 to 10000, such as 20')
        .max(10_000, 'must be a number from 0.001 to 10000, such as 20'),
    ),
  maxOutage: positiveDuration,
} satisfies Record<keyof ProduceArgs, z.ZodTypeAny>;

function parseInstant(s: string, ctx: z.RefinementCtx): number {
  const ms = /^\d{4}-\d\d-\d\d/.test(s.trim()) ? Date.parse(s.trim()) : NaN;
  if (Number.isNaN(ms)) {
    ctx.addIssue({
      code: 'custom',
      message: 'must be an ISO date or date-time such as 2025-09-01 or 2025-09-01T18:00Z',
    });
    return z.NEVER;
  }
  return ms;
}

/** 'create=60,cancel=15,update=20,delete=5' -> weights, or an error message. Percentages must sum to 100. */
export function parseMix(text: string): OpMix | string {
  const mix: OpMix = { create: 0, cancel: 0, update: 0, delete: 0 };
  const seen = new Set<string>();
  for (const part of text.split(',')) {
    const m = /^\s*([a-z]+)\s*=\s*(\d+(?:\.\d+)?)\s*$/.exec(part);
    if (!m) return `must look like create=60,cancel=15,update=20,delete=5 (got '${part.trim()}')`;
    const kind = m[1]! as keyof OpMix;
    if (!CHANGE_KINDS.includes(kind)) return `unknown operation '${m[1]}' (use ${CHANGE_KINDS.join(', ')})`;
    if (seen.has(kind)) return `'${kind}' is given twice`;
    seen.add(kind);
    mix[kind] = Number(m[2]);
  }
  const sum = CHANGE_KINDS.reduce((s, k) => s + mix[k], 0);
  if (Math.abs(sum - 100) > 1e-6) return `percentages must sum to 100, they sum to ${sum}`;
  if (mix.create <= 0) return 'create must be above 0: cancellations, updates and deletes need bookings';
  return mix;
}

/** One option's value, parsed; undefined when not given. */
export function field<K extends keyof ProduceArgs>(
  args: ProduceArgs,
  key: K,
): z.output<(typeof fields)[K]> | undefined {
  const raw = args[key];
  if (raw === undefined) return undefined;
  const r = fields[key].safeParse(raw);
  if (!r.success) {
    throw new UsageError(`${FLAGS[key]} ${r.error.issues[0]?.message ?? 'is invalid'} (got '${raw}')`);
  }
  return r.data;
}
