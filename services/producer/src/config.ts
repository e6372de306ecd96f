import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { assertTimeZone, CdcError, UsageError } from '@cdc/core';
import { CHANGE_KINDS, DEFAULT_GENERATOR, DEFAULT_MIX, type GeneratorConfig, type OpMix } from './generator';
import { loadScenario, type Scenario } from './scenario';

/**
 * The producer's settings, read once from command-line options (strings, as typed) and validated
 * here: a bad or contradictory option stops the command with a UsageError (exit 2) naming it.
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
}

/** Generator settings the run fills in from the topic (ids continue after what it holds). */
export type GeneratorSettings = Omit<GeneratorConfig, 'runId' | 'firstSeq' | 'firstBookingNumber'> & {
  runId?: string;
};

export interface ProduceConfig {
  source:
    | { kind: 'generator'; generator: GeneratorSettings }
    /** `generator`: the traffic an overlay scenario is played on top of (null: the scenario alone). */
    | { kind: 'scenario'; scenario: Scenario; generator: GeneratorSettings | null };
  /** Events per second (of event time); null = as fast as the broker acknowledges. */
  ratePerSec: number | null;
  /** Event time runs this many times faster than the wall clock (1 = real time). */
  timeScale: number;
  count: number | null;
  durationMs: number | null;
  /** Most messages per produce request. */
  batchSize: number;
  /** Idempotent producers, each owning a share of the partitions, one request in flight each. */
  producers: number;
  /** Ops server port (0 = random); null = no ops server. */
  opsPort: number | null;
}

export const DEFAULT_RATE_PER_SEC = 50;
export const DEFAULT_OPS_PORT = 9470;
export const DEFAULT_BATCH_SIZE = 1000;
export const DEFAULT_PRODUCERS = 2;
export const DEFAULT_BOOKING_DAYS = 7;
const DAY_MS = 86_400_000;

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
};

/** Options that shape generated events, so they make no sense with --scenario. */
const GENERATOR_ONLY: (keyof ProduceArgs)[] = [
  'count',
  'duration',
  'seed',
  'movies',
  'customers',
  'mix',
  'dirtyRatio',
  'timeZone',
  'bookingDays',
  'bookingFrom',
  'bookingTo',
];

const wholeNumber = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^-?\d+$/, `must be a whole number from ${min} to ${max}`)
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** '500ms', '30s', '5m', '1.5h' -> milliseconds. */
export function parseDuration(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text.trim());
  return m ? Math.round(Number(m[1]) * DURATION_UNITS[m[2]!]!) : null;
}

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
  duration: z.string().transform((s, ctx) => {
    const ms = parseDuration(s);
    if (ms === null || ms <= 0) {
      ctx.addIssue({ code: 'custom', message: 'must be a duration such as 500ms, 30s, 5m or 1h' });
      return z.NEVER;
    }
    return ms;
  }),
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

function field<K extends keyof ProduceArgs>(
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

/** Validates the options; `nowMs` anchors the default booking-date range (the last 7 days). */
export function parseProduceArgs(args: ProduceArgs, nowMs = Date.now()): ProduceConfig {
  const given = (Object.keys(args) as (keyof ProduceArgs)[]).filter((k) => args[k] !== undefined);
  if (args.count !== undefined && args.duration !== undefined) {
    throw new UsageError(
      '--count and --duration cannot be combined: give one, or neither to run until Ctrl-C',
    );
  }
  if (args.bookingDays !== undefined && (args.bookingFrom !== undefined || args.bookingTo !== undefined)) {
    throw new UsageError('--booking-days cannot be combined with --booking-from/--booking-to');
  }
  const ratePerSec = field(args, 'rate');
  const batchSize = field(args, 'batchSize') ?? DEFAULT_BATCH_SIZE;
  const producers = field(args, 'producers') ?? DEFAULT_PRODUCERS;
  const opsPort = field(args, 'opsPort');

  const timeScale = field(args, 'timeScale') ?? 1;

  if (args.scenario !== undefined) {
    let scenario: Scenario;
    try {
      scenario = loadScenario(field(args, 'scenario')!);
    } catch (err) {
      throw err instanceof CdcError ? new UsageError(`--scenario: ${err.message}`) : err;
    }
    // An overlay scenario runs on generated traffic: the generator's options apply, and the run
    // lasts the scenario's own duration unless --duration says otherwise.
    const allowed: (keyof ProduceArgs)[] =
      scenario.overlayMs === null ? [] : GENERATOR_ONLY.filter((k) => k !== 'count');
    const clash = given.find((k) => GENERATOR_ONLY.includes(k) && !allowed.includes(k));
    if (clash)
      throw new UsageError(
        `${FLAGS[clash]} cannot be combined with --scenario ${scenario.name} (${
          scenario.overlayMs === null
            ? 'a scenario is a fixed script'
            : 'an overlay scenario runs for its duration'
        })`,
      );
    const overlay = scenario.overlayMs !== null;
    return {
      source: { kind: 'scenario', scenario, generator: overlay ? generatorSettings(args, nowMs) : null },
      ratePerSec: ratePerSec !== undefined ? ratePerSec : overlay ? DEFAULT_RATE_PER_SEC : null,
      timeScale,
      count: null,
      durationMs: overlay ? (field(args, 'duration') ?? scenario.overlayMs) : null,
      batchSize,
      producers,
      opsPort: opsPort ?? null,
    };
  }

  const count = field(args, 'count') ?? null;
  const durationMs = field(args, 'duration') ?? null;
  return {
    source: { kind: 'generator', generator: generatorSettings(args, nowMs) },
    // A bounded count runs as fast as it can unless told otherwise; an open-ended run is gentle.
    ratePerSec: ratePerSec !== undefined ? ratePerSec : count !== null ? null : DEFAULT_RATE_PER_SEC,
    timeScale,
    count,
    durationMs,
    batchSize,
    producers,
    // Continuous runs serve /healthz and /metrics; bounded ones only when asked.
    opsPort: opsPort ?? (count === null ? DEFAULT_OPS_PORT : null),
  };
}

/** The generator's settings from the options; `nowMs` anchors the default booking-date range. */
function generatorSettings(args: ProduceArgs, nowMs: number): GeneratorSettings {
  const from = field(args, 'bookingFrom');
  const to = field(args, 'bookingTo') ?? null;
  const days = field(args, 'bookingDays') ?? DEFAULT_BOOKING_DAYS;
  const bookingDateFromMs = from ?? (to ?? nowMs) - days * DAY_MS;
  if (to !== null && to <= bookingDateFromMs) {
    throw new UsageError(
      `--booking-to must be after the start of the booking-date range (${new Date(bookingDateFromMs).toISOString()})`,
    );
  }
  if (bookingDateFromMs > nowMs) {
    throw new UsageError(
      '--booking-from is in the future: booking dates after the change time are invalid records',
    );
  }
  return {
    ...DEFAULT_GENERATOR,
    seed: field(args, 'seed') ?? randomBytes(4).readUInt32BE(0),
    movies: field(args, 'movies') ?? DEFAULT_GENERATOR.movies,
    customers: field(args, 'customers') ?? DEFAULT_GENERATOR.customers,
    mix: field(args, 'mix') ?? DEFAULT_MIX,
    dirtyRatio: field(args, 'dirtyRatio') ?? DEFAULT_GENERATOR.dirtyRatio,
    timeZone: field(args, 'timeZone') ?? DEFAULT_GENERATOR.timeZone,
    bookingDateFromMs,
    bookingDateToMs: to,
  };
}
