import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError, durationSetting, parseDuration, type Booking, type BookingChange } from '@cdc/core';
import type { ChangeKind, Generated } from '@cdc/bookings';

/**
 * Named scenarios: fixed scripts of booking changes kept as JSON files in `scenarios/`, so a new
 * one needs no code. A file is validated (shape with zod, then the same invariants as the
 * generator: creates of new ids, updates and deletes of live ones, non-decreasing times).
 *
 * Events are fully determined by the file: event ids `<eventIdPrefix>-<n>`, `source.seq` n,
 * so producing a scenario twice produces the same events (duplicates the pipeline ignores).
 *
 * A scenario may also give its times relative to the moment it is produced (`"at": "+5m"`, a
 * booking date `"-2h"` before its step): then it is anchored at the producer's start, its
 * events are sent when their time comes, and `{run}` in ids and the event ids carry the run id,
 * so producing it again makes new bookings. An `overlay` scenario is played on top of generated
 * traffic (the generator's options apply) for `overlay.duration` of event time: anyone can watch
 * what it provokes (the alert scenarios: cancellation-spike, booking-surge, dirty-burst). A step
 * may `repeat` (`{"count": 60, "every": "2s"}`; `{n}` in ids is 1..count).
 */
export const SCENARIOS_DIR = path.resolve(__dirname, '../scenarios');

const RELATIVE = /^([+-])(\S+)$/;

/** '+5m' / '-2h' -> signed milliseconds (core's durations with a sign); null when not a relative time. */
export function parseRelative(text: string): number | null {
  const m = RELATIVE.exec(text.trim());
  const ms = m ? parseDuration(m[2]!) : null;
  return m && ms !== null ? (m[1] === '-' ? -1 : 1) * ms : null;
}

/** An instant: absolute (epoch ms) or relative to an anchor known only when the scenario runs. */
type Instant = { abs: number } | { rel: number };

const absolute = z.union([
  z.number().int().nonnegative(),
  z
    .string()
    .refine((s) => /^\d{4}-\d\d-\d\dT/.test(s) && !Number.isNaN(Date.parse(s)), {
      message: 'must be an ISO-8601 date-time such as 2025-09-03T10:00:00Z',
    })
    .transform((s) => Date.parse(s)),
]);
const instant = z.union([
  absolute.transform((abs): Instant => ({ abs })),
  z
    .string()
    .refine((s) => parseRelative(s) !== null, {
      message: 'must be an ISO-8601 date-time, or a relative time such as +5m or -2h',
    })
    .transform((s): Instant => ({ rel: parseRelative(s)! })),
]);
const positiveDuration = z
  .string()
  .transform((s) => s.replace(/^\+/, ''))
  .pipe(durationSetting({ minMs: 1 }));
const repeat = z
  .object({ count: z.number().int().min(1).max(100_000), every: positiveDuration })
  .strict()
  .optional();
const cents = z.number().int();
const id = z.string().min(1).nullable();

const bookingFields = {
  customer_id: id,
  movie_id: id,
  booking_date: instant,
  status: z.string().min(1),
  ticket_count: z.number().int(),
  ticket_price: cents,
};

const create = z
  .object({
    op: z.literal('create'),
    at: instant.optional(),
    repeat,
    booking: z
      .object({
        booking_id: z.string().min(1),
        ...bookingFields,
        status: bookingFields.status.default('BOOKED'),
      })
      .strict(),
  })
  .strict();
const update = z
  .object({
    op: z.literal('update'),
    at: instant.optional(),
    repeat,
    booking_id: z.string().min(1),
    set: z
      .object(bookingFields)
      .partial()
      .strict()
      .refine((s) => Object.keys(s).length > 0, { message: 'must change at least one field' }),
  })
  .strict();
const cancel = z
  .object({ op: z.literal('cancel'), at: instant.optional(), repeat, booking_id: z.string().min(1) })
  .strict();
const del = z
  .object({ op: z.literal('delete'), at: instant.optional(), repeat, booking_id: z.string().min(1) })
  .strict();

export const scenarioSchema = z
  .object({
    description: z.string().min(1),
    source: z.string().min(1).optional(),
    eventIdPrefix: z.string().min(1).optional(),
    overlay: z.object({ duration: positiveDuration }).strict().optional(),
    steps: z.array(z.discriminatedUnion('op', [create, update, cancel, del])).min(1),
  })
  .strict();
export type ScenarioFile = z.infer<typeof scenarioSchema>;
/** A scenario file as written (JSON), before validation. */
export type ScenarioInput = z.input<typeof scenarioSchema>;

export interface Scenario {
  name: string;
  file: string;
  description: string;
  /** The events; a relative scenario's are anchored at time 0 here (see `anchor`). */
  events: Generated[];
  /** True when its times are relative to the moment it is produced. */
  relative: boolean;
  /** Played on top of generated traffic for this long (event time); null: the scenario alone. */
  overlayMs: number | null;
  /** The events of a run that starts at `startMs` (event time) with run id `runId`. */
  anchor(startMs: number, runId: string): Generated[];
}

type Step = ScenarioFile['steps'][number];

const usesRelative = (spec: ScenarioFile): boolean =>
  spec.steps.some(
    (s) =>
      (s.at !== undefined && 'rel' in s.at) ||
      (s.op === 'create' && 'rel' in s.booking.booking_date) ||
      (s.op === 'update' && s.set.booking_date !== undefined && 'rel' in s.set.booking_date),
  );

/** The steps with `repeat` expanded; `{n}` in ids is the repetition's number. */
function expand(spec: ScenarioFile): { step: Step; n: number; index: number }[] {
  return spec.steps.flatMap((step, index) =>
    Array.from({ length: step.repeat?.count ?? 1 }, (_, i) => ({ step, n: i + 1, index })),
  );
}

/**
 * Validates a scenario as written and applies its steps in order; throws a ConfigError naming the
 * field, or the step whose invariant breaks.
 */
export function buildScenario(name: string, file: string, input: ScenarioInput): Scenario {
  const spec = parseScenario(input, file);
  const relative = usesRelative(spec);
  if (spec.overlay && !relative) {
    throw new ConfigError(
      `scenario '${name}' (${file}): an overlay scenario gives its times relative to its start ("at": "+5m")`,
    );
  }
  const anchor = (startMs: number, runId: string) => buildEvents(name, file, spec, startMs, runId, relative);
  return {
    name,
    file,
    description: spec.description,
    events: anchor(0, 'run'),
    relative,
    overlayMs: spec.overlay?.duration ?? null,
    anchor,
  };
}

function buildEvents(
  name: string,
  file: string,
  spec: ScenarioFile,
  startMs: number,
  runId: string,
  relative: boolean,
): Generated[] {
  const live = new Map<string, Booking>();
  const events: Generated[] = [];
  const prefix = relative ? `${spec.eventIdPrefix ?? name}-${runId}` : (spec.eventIdPrefix ?? name);
  const sourceName = spec.source ?? `scenario-${name}`;
  const time = (t: Instant, base: number): number => ('abs' in t ? t.abs : base + t.rel);
  let lastTs: number | undefined;
  expand(spec).forEach(({ step, n, index }, i) => {
    const fail = (why: string): never => {
      throw new ConfigError(`scenario '${name}' (${file}) step ${index + 1} (${step.op}): ${why}`);
    };
    const id = (template: string): string => template.replaceAll('{run}', runId).replaceAll('{n}', String(n));
    const first =
      step.at !== undefined
        ? time(step.at, startMs)
        : lastTs === undefined
          ? fail("the first step needs 'at'")
          : lastTs + 1000;
    const ts = n === 1 ? first : lastTs! + (step.repeat?.every ?? 0);
    if (n === 1 && lastTs !== undefined && ts < lastTs) {
      fail(`'at' goes back in time (before step ${index})`);
    }
    lastTs = ts;
    const seq = i + 1;
    const emit = (kind: ChangeKind, op: BookingChange['op'], before: Booking | null, after: Booking | null) =>
      events.push({
        change: {
          event_id: `${prefix}-${seq}`,
          op,
          before,
          after,
          ts_ms: ts,
          source: { name: sourceName, seq },
        },
        kind,
        defect: null,
      });

    if (step.op === 'create') {
      const b = step.booking;
      const bookingId = id(b.booking_id);
      if (live.has(bookingId)) fail(`booking ${bookingId} already exists`);
      const after: Booking = {
        booking_id: bookingId,
        customer_id: b.customer_id === null ? null : id(b.customer_id),
        movie_id: b.movie_id === null ? null : id(b.movie_id),
        booking_date: time(b.booking_date, ts),
        status: b.status,
        ticket_count: b.ticket_count,
        ticket_price: b.ticket_price,
        created_at: ts,
        updated_at: ts,
        version: 1,
      };
      live.set(bookingId, after);
      emit('create', 'c', null, after);
      return;
    }
    const bookingId = id(step.booking_id);
    const before = live.get(bookingId) ?? fail(`booking ${bookingId} does not exist (or was deleted)`);
    if (step.op === 'delete') {
      live.delete(bookingId);
      emit('delete', 'd', before, null);
      return;
    }
    let set: Partial<Booking> = { status: 'CANCELLED' };
    if (step.op === 'update') {
      const { booking_date, customer_id, movie_id, ...rest } = step.set;
      set = { ...rest };
      if (booking_date !== undefined) set.booking_date = time(booking_date, ts);
      if (customer_id !== undefined) set.customer_id = customer_id === null ? null : id(customer_id);
      if (movie_id !== undefined) set.movie_id = movie_id === null ? null : id(movie_id);
    }
    const after: Booking = { ...before, ...set, updated_at: ts, version: before.version + 1 };
    live.set(bookingId, after);
    const kind = before.status !== 'CANCELLED' && after.status === 'CANCELLED' ? 'cancel' : 'update';
    emit(kind, 'u', before, after);
  });
  return events;
}

const nameOf = (file: string): string => path.basename(file, '.json');

function parseScenario(json: unknown, file: string): ScenarioFile {
  const parsed = scenarioSchema.safeParse(json);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((x) => `  ${x.path.join('.') || '(file)'}: ${x.message}`);
    throw new ConfigError(`scenario file ${file} is invalid:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

function readScenarioFile(file: string): ScenarioInput {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`scenario file ${file} cannot be read as JSON: ${(err as Error).message}`);
  }
  parseScenario(json, file);
  return json as ScenarioInput;
}

/** The scenarios in `dir` (every *.json), by name. */
export function listScenarios(dir = SCENARIOS_DIR): { name: string; description: string; file: string }[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const file = path.join(dir, f);
      return { name: nameOf(f), description: parseScenario(readScenarioFile(file), file).description, file };
    });
}

/** Loads a scenario by name (a file in `dir`) or by path to a .json file. */
export function loadScenario(nameOrPath: string, dir = SCENARIOS_DIR): Scenario {
  const isPath = nameOrPath.endsWith('.json') || nameOrPath.includes('/') || nameOrPath.includes(path.sep);
  const file = isPath ? path.resolve(nameOrPath) : path.join(dir, `${nameOrPath}.json`);
  if (!isPath && !/^[\w.-]+$/.test(nameOrPath)) throw new ConfigError(`unknown scenario '${nameOrPath}'`);
  if (!isPath) {
    const known = readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map(nameOf);
    if (!known.includes(nameOrPath)) {
      throw new ConfigError(`unknown scenario '${nameOrPath}' (known: ${known.sort().join(', ')})`);
    }
  }
  return buildScenario(nameOf(file), file, readScenarioFile(file));
}
