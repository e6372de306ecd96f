import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError, type Booking, type BookingChange } from '@cdc/core';
import type { ChangeKind, Generated } from './generator';

/**
 * Named scenarios: fixed scripts of booking changes kept as JSON files in `scenarios/`, so a new
 * one needs no code. A file is validated (shape with zod, then the same invariants as the
 * generator: creates of new ids, updates and deletes of live ones, non-decreasing times).
 *
 * Events are fully determined by the file: event ids `<eventIdPrefix>-<n>`, `source.seq` n,
 * so producing a scenario twice produces the same events (duplicates the pipeline ignores).
 */
export const SCENARIOS_DIR = path.resolve(__dirname, '../scenarios');

const instant = z.union([
  z.number().int().nonnegative(),
  z
    .string()
    .refine((s) => /^\d{4}-\d\d-\d\dT/.test(s) && !Number.isNaN(Date.parse(s)), {
      message: 'must be an ISO-8601 date-time such as 2025-09-03T10:00:00Z',
    })
    .transform((s) => Date.parse(s)),
]);
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
    booking_id: z.string().min(1),
    set: z
      .object(bookingFields)
      .partial()
      .strict()
      .refine((s) => Object.keys(s).length > 0, { message: 'must change at least one field' }),
  })
  .strict();
const cancel = z
  .object({ op: z.literal('cancel'), at: instant.optional(), booking_id: z.string().min(1) })
  .strict();
const del = z
  .object({ op: z.literal('delete'), at: instant.optional(), booking_id: z.string().min(1) })
  .strict();

export const scenarioSchema = z
  .object({
    description: z.string().min(1),
    source: z.string().min(1).optional(),
    eventIdPrefix: z.string().min(1).optional(),
    steps: z.array(z.discriminatedUnion('op', [create, update, cancel, del])).min(1),
  })
  .strict();
export type ScenarioFile = z.infer<typeof scenarioSchema>;

export interface Scenario {
  name: string;
  file: string;
  description: string;
  events: Generated[];
}

/** Applies the steps in order; throws a ConfigError naming the step when an invariant breaks. */
export function buildScenario(name: string, file: string, spec: ScenarioFile): Scenario {
  const live = new Map<string, Booking>();
  const events: Generated[] = [];
  const prefix = spec.eventIdPrefix ?? name;
  const sourceName = spec.source ?? `scenario-${name}`;
  let lastTs: number | undefined;
  spec.steps.forEach((step, i) => {
    const fail = (why: string): never => {
      throw new ConfigError(`scenario '${name}' (${file}) step ${i + 1} (${step.op}): ${why}`);
    };
    const ts = step.at ?? (lastTs === undefined ? fail("the first step needs 'at'") : lastTs + 1000);
    if (lastTs !== undefined && ts < lastTs) fail(`'at' goes back in time (before step ${i})`);
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
      if (live.has(b.booking_id)) fail(`booking ${b.booking_id} already exists`);
      const after: Booking = {
        booking_id: b.booking_id,
        customer_id: b.customer_id,
        movie_id: b.movie_id,
        booking_date: b.booking_date,
        status: b.status,
        ticket_count: b.ticket_count,
        ticket_price: b.ticket_price,
        created_at: ts,
        updated_at: ts,
        version: 1,
      };
      live.set(b.booking_id, after);
      emit('create', 'c', null, after);
      return;
    }
    const before =
      live.get(step.booking_id) ?? fail(`booking ${step.booking_id} does not exist (or was deleted)`);
    if (step.op === 'delete') {
      live.delete(step.booking_id);
      emit('delete', 'd', before, null);
      return;
    }
    const set = step.op === 'cancel' ? { status: 'CANCELLED' } : step.set;
    const after: Booking = { ...before, ...set, updated_at: ts, version: before.version + 1 };
    live.set(step.booking_id, after);
    const kind = before.status !== 'CANCELLED' && after.status === 'CANCELLED' ? 'cancel' : 'update';
    emit(kind, 'u', before, after);
  });
  return { name, file, description: spec.description, events };
}

const nameOf = (file: string): string => path.basename(file, '.json');

function readScenarioFile(file: string): ScenarioFile {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`scenario file ${file} cannot be read as JSON: ${(err as Error).message}`);
  }
  const parsed = scenarioSchema.safeParse(json);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((x) => `  ${x.path.join('.') || '(file)'}: ${x.message}`);
    throw new ConfigError(`scenario file ${file} is invalid:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

/** The scenarios in `dir` (every *.json), by name. */
export function listScenarios(dir = SCENARIOS_DIR): { name: string; description: string; file: string }[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const file = path.join(dir, f);
      return { name: nameOf(f), description: readScenarioFile(file).description, file };
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
