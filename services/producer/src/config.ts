import { randomBytes } from 'node:crypto';
import { CdcError, UsageError } from '@cdc/core';
import { DEFAULT_GENERATOR, DEFAULT_MIX, type GeneratorConfig } from '@cdc/bookings';
import { field, FLAGS, type ProduceArgs } from './options';
import { loadScenario, type Scenario } from './scenario';

/**
 * The producer's settings, read once from command-line options (strings, as typed) and validated
 * here: a bad or contradictory option stops the command with a UsageError (exit 2) naming it.
 * Each option's own parsing is in options.ts; here, how they combine and their defaults.
 */

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
  /**
   * How long a broker or registry outage is waited out before the run ends (exit 1, with what was
   * acknowledged); null = forever (a run until Ctrl-C, unless --max-outage says otherwise).
   */
  maxOutageMs: number | null;
}

/** A bounded run (--count, --duration, --scenario) gives up after an outage this long. */
export const DEFAULT_MAX_OUTAGE_MS = 30_000;

export const DEFAULT_RATE_PER_SEC = 50;
export const DEFAULT_OPS_PORT = 9470;
export const DEFAULT_BATCH_SIZE = 1000;
export const DEFAULT_PRODUCERS = 2;
/**
 * A paced run up to this rate has one producer unless told otherwise: one sends 60,000 events/s
 * or more, and a second would only double the produce requests (each costs the same CPU whatever
 * it carries).
 */
export const ONE_PRODUCER_MAX_RATE = 25_000;
const defaultProducers = (ratePerSec: number | null): number =>
  ratePerSec !== null && ratePerSec <= ONE_PRODUCER_MAX_RATE ? 1 : DEFAULT_PRODUCERS;
export const DEFAULT_BOOKING_DAYS = 7;
const DAY_MS = 86_400_000;

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
  const producers = field(args, 'producers');
  const opsPort = field(args, 'opsPort');
  const maxOutageMs = field(args, 'maxOutage');

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
    const rate = ratePerSec !== undefined ? ratePerSec : overlay ? DEFAULT_RATE_PER_SEC : null;
    return {
      source: { kind: 'scenario', scenario, generator: overlay ? generatorSettings(args, nowMs) : null },
      ratePerSec: rate,
      timeScale,
      count: null,
      durationMs: overlay ? (field(args, 'duration') ?? scenario.overlayMs) : null,
      batchSize,
      producers: producers ?? defaultProducers(rate === null ? null : rate * timeScale),
      opsPort: opsPort ?? null,
      maxOutageMs: maxOutageMs ?? DEFAULT_MAX_OUTAGE_MS,
    };
  }

  const count = field(args, 'count') ?? null;
  const durationMs = field(args, 'duration') ?? null;
  // A bounded count runs as fast as it can unless told otherwise; an open-ended run is gentle.
  const rate = ratePerSec !== undefined ? ratePerSec : count !== null ? null : DEFAULT_RATE_PER_SEC;
  return {
    source: { kind: 'generator', generator: generatorSettings(args, nowMs) },
    ratePerSec: rate,
    timeScale,
    count,
    durationMs,
    batchSize,
    // By the wall-clock rate (--rate is in event time).
    producers: producers ?? defaultProducers(rate === null ? null : rate * timeScale),
    // Continuous runs serve /healthz and /metrics; bounded ones only when asked.
    opsPort: opsPort ?? (count === null ? DEFAULT_OPS_PORT : null),
    // A run until Ctrl-C waits out any outage; a bounded one ends after DEFAULT_MAX_OUTAGE_MS.
    maxOutageMs: maxOutageMs ?? (count === null && durationMs === null ? null : DEFAULT_MAX_OUTAGE_MS),
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
