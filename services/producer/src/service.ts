import {
  UnavailableError,
  errorMessage,
  OutageTracker,
  retryWhileOutage,
  type BookingChange,
  type ConnectionConfig,
  type Logger,
  type LogLevel,
} from '@cdc/core';
import { startOpsServer } from '@cdc/observe';
import type { ProduceConfig } from './config';
import { prepareBronze } from './connect';
import { CHANGE_KINDS } from '@cdc/bookings';
import { createProducerMetrics } from './metrics';
import { createPacer } from './pacer';
import { createProgress, type Progress, type ProgressMode } from './progress';
import { createSender, finishSending } from './sender';
import { createSource } from './source';
import { emptyByKind, type ProduceSummary } from './summary';
import { race, sleep, yieldToIo } from './timing';

export interface RunControls {
  connection: ConnectionConfig;
  logger: Logger;
  /** Abort to stop: generation stops, in-flight sends are awaited, the summary is returned. */
  signal?: AbortSignal;
  /** Event time of the next change (default Date.now). Tests pass a fixed clock. */
  clock?: () => number;
  progress?: ProgressMode;
  /** Bound on reaching the registry and the broker at start. */
  connectTimeoutMs?: number;
  /** How long to wait for in-flight sends when stopping. */
  drainTimeoutMs?: number;
  /** Called once connected (and the ops server, if any, listens). */
  onStarted?: (info: { topic: string; opsPort: number | null; partitions: number }) => void;
  /** Hands over a probe of the events in flight (for the shutdown's "abandoned" line). */
  expose?: (probe: () => { inFlight: number; queued: number }) => void;
}

/**
 * With a rate, events are generated and handed to the lanes every PACED_TICK_MS (see pacer.ts).
 * Each produce request costs about a millisecond of CPU on this kind of host (the worker-thread
 * hand-over, kafkajs, the socket write), whatever it carries: released every millisecond, a run
 * at 5,000 events/s cost 120-170 µs of CPU per event against ~25 at full speed; every 20 ms, ~35.
 * Each event is stamped when it is generated: that is when the change happens.
 */
const PACED_TICK_MS = 20;

const KIND_INDEX = Object.fromEntries(CHANGE_KINDS.map((k, i) => [k, i])) as Record<string, number>;
const bookingKey = (c: BookingChange): string => (c.after ?? c.before)!.booking_id;

/** Produces changes to the bronze topic as `config` says; resolves with what was acknowledged. */
export async function runProducer(config: ProduceConfig, ctl: RunControls): Promise<ProduceSummary> {
  const { logger } = ctl;
  const metrics = createProducerMetrics();
  const time = eventClock(config, ctl);
  // An unreachable broker or registry is waited out (one warning per outage, /healthz 503 with the
  // reason): a run until Ctrl-C waits as long as it takes, a bounded run up to --max-outage.
  const outages = new OutageTracker({ logger });
  const health: { body: () => Record<string, unknown> } = { body: () => ({ status: 'connecting' }) };
  const ops =
    config.opsPort === null
      ? null
      : await startOpsServer({
          port: config.opsPort,
          metrics: metrics.registry,
          logger,
          outages,
          portSetting: { option: '--ops-port' },
          health: () => ({ ok: true, ...health.body() }),
        });
  let bronze: Bronze;
  try {
    bronze = await waitForBronze(config, ctl, outages);
  } catch (err) {
    await ops?.close();
    throw err;
  }
  const source = createSource(config, bronze.nextSeq, time.t0);
  metrics.setTargetRate(config.ratePerSec);
  const sending = createTalliedSender(config, ctl, bronze, metrics, outages);
  const { sender, tally } = sending;

  ctl.expose?.(() => ({ inFlight: sender.inFlight, queued: sender.queued }));
  let progress: Progress | undefined;
  let progressTimer: NodeJS.Timeout | undefined;
  let status: ProduceSummary['status'] = 'completed';
  let startedAt = Date.now();
  try {
    const connectTimeoutMs = ctl.connectTimeoutMs ?? 15_000;
    if ((await race(sender.connect(), connectTimeoutMs)) === 'timeout') {
      throw new UnavailableError(
        'broker',
        `the Kafka producers did not connect within ${connectTimeoutMs} ms`,
      );
    }
    health.body = () => ({
      ok: sender.failure === null,
      status: sender.failure ? 'failed' : 'producing',
      ...sending.snapshot(),
    });
    logStart(config, logger, bronze, source, time.scale);
    ctl.onStarted?.({
      topic: bronze.topic,
      opsPort: ops?.port ?? null,
      partitions: bronze.partitions.length,
    });
    const bar = createProgress({ mode: ctl.progress ?? 'auto', total: source.total, logger });
    progress = bar;
    progressTimer = setInterval(() => {
      metrics.setInFlight(sender.inFlight);
      bar.update(sending.snapshot());
    }, bar.intervalMs);
    progressTimer.unref();

    startedAt = Date.now();
    status = await generate({
      config,
      signal: ctl.signal,
      source,
      sending,
      time,
      partitions: bronze.partitions.length,
      startedAt,
    });

    // A completed run sends everything it generated; a stopped or failed one sends no more.
    const end = await finishSending(sender, {
      completed: status === 'completed',
      signal: ctl.signal,
      drainTimeoutMs: ctl.drainTimeoutMs ?? 30_000,
      logger,
    });
    if (end.stopped) status = 'stopped';
    tally.notSent = end.notSent;
    tally.unanswered = end.unanswered;
    if (end.failed) status = 'failed';
  } finally {
    clearInterval(progressTimer);
    progress?.stop(sending.snapshot());
    await sender.close(tally.unanswered > 0 ? 0 : 10_000);
    await ops?.close();
  }
  const summary = summarize(status, bronze.topic, sending, source, Date.now() - startedAt);
  logger.info({ ...summary }, `producer ${status}`);
  return summary;
}

type Bronze = Awaited<ReturnType<typeof prepareBronze>>;
type Source = ReturnType<typeof createSource>;
type Sender = ReturnType<typeof createSender>;

/** Event time: `--time-scale` times faster than the clock, from the start. */
interface EventClock {
  /** The start (0 when nothing depends on it). */
  t0: number;
  scale: number;
  now: () => number;
}

function eventClock(config: ProduceConfig, ctl: RunControls): EventClock {
  const baseClock = ctl.clock ?? Date.now;
  const scale = config.timeScale;
  // The start is read only when something depends on it (each reading of a test's clock is an
  // event time): a time scale, or a scenario with times relative to the start.
  const relative = config.source.kind === 'scenario' && config.source.scenario.relative;
  const t0 = scale !== 1 || relative ? baseClock() : 0;
  return { t0, scale, now: scale === 1 ? baseClock : () => t0 + (baseClock() - t0) * scale };
}

/** The bronze topic and its schema, waiting out an outage (up to --max-outage). */
function waitForBronze(config: ProduceConfig, ctl: RunControls, outages: OutageTracker): Promise<Bronze> {
  const logLevel = ctl.logger.level as LogLevel;
  const connectTimeoutMs = ctl.connectTimeoutMs ?? 15_000;
  return retryWhileOutage(() => prepareBronze(ctl.connection, logLevel, connectTimeoutMs, outages), {
    outages,
    what: 'preparing the bronze topic',
    signal: ctl.signal,
    maxOutageMs: config.maxOutageMs ?? undefined,
    maxMs: 1000,
  });
}

interface Tally {
  generated: number;
  sent: number;
  acked: number;
  failed: number;
  unanswered: number;
  notSent: number;
}

/** The sender's lanes, with what they sent, had acknowledged and failed counted as it happens. */
interface TalliedSender {
  sender: Sender;
  tally: Tally;
  acknowledged: ProduceSummary['acknowledged'];
  /** The first send failure, if any. */
  lastError(): Error | null;
  snapshot(): { generated: number; sent: number; acked: number; inFlight: number; failed: number };
}

function createTalliedSender(
  config: ProduceConfig,
  ctl: RunControls,
  bronze: Bronze,
  metrics: ReturnType<typeof createProducerMetrics>,
  outages: OutageTracker,
): TalliedSender {
  const { logger } = ctl;
  const acknowledged = emptyByKind();
  const tally: Tally = { generated: 0, sent: 0, acked: 0, failed: 0, unanswered: 0, notSent: 0 };
  let lastError: Error | null = null;
  const sender = createSender({
    connection: ctl.connection,
    topic: bronze.topic,
    partitions: bronze.partitions.length,
    lanes: config.producers,
    batchSize: config.batchSize,
    schemaId: bronze.schemaId,
    type: bronze.type,
    kinds: CHANGE_KINDS.length,
    logLevel: logger.level as LogLevel,
    maxOutageMs: config.maxOutageMs,
    events: {
      retrying: (reason) => outages.failed('broker', new Error(reason), 'sending'),
      sent: (c) => {
        tally.sent += c.total;
        metrics.sent(c);
      },
      acked: (c) => {
        outages.recovered('broker');
        tally.acked += c.total;
        c.byKind.forEach((n, i) => (acknowledged[CHANGE_KINDS[i]!] += n));
        metrics.acked(c);
      },
      failed: (c, err) => {
        tally.failed += c.total;
        lastError ??= err;
        metrics.failed(c);
        logger.error({ err, events: c.total }, 'send failed; stopping');
      },
    },
  });
  return {
    sender,
    tally,
    acknowledged,
    lastError: () => lastError,
    snapshot: () => ({
      generated: tally.generated,
      sent: tally.sent,
      acked: tally.acked,
      inFlight: sender.inFlight,
      failed: tally.failed,
    }),
  };
}

function logStart(
  config: ProduceConfig,
  logger: Logger,
  bronze: Bronze,
  source: Source,
  scale: number,
): void {
  logger.info(
    {
      topic: bronze.topic,
      partitions: bronze.partitions.length,
      ratePerSec: config.ratePerSec ?? 'max',
      ...(scale === 1 ? {} : { timeScale: scale }),
      count: source.total,
      durationMs: config.durationMs,
      source: source.summary,
    },
    'producing booking changes',
  );
}

interface GenerateOptions {
  config: ProduceConfig;
  signal: AbortSignal | undefined;
  source: Source;
  sending: TalliedSender;
  time: EventClock;
  partitions: number;
  startedAt: number;
}

/**
 * Generates changes and hands them to the lanes until the count, the duration or the signal
 * says stop, or a send fails: paced by --rate, timed scenario events when their event time comes,
 * and never more than about two chunks per lane encoded but unsent.
 */
async function generate(o: GenerateOptions): Promise<'completed' | 'stopped'> {
  const { config, signal, source, time } = o;
  const { sender, tally } = o.sending;
  const scale = time.scale;
  const lanes = Math.max(1, Math.min(config.producers, o.partitions));
  // Encoded but unsent records are bounded: about two chunks per lane.
  const highWater = config.batchSize * lanes * 2;
  // --rate and --duration are in event time.
  const deadline = config.durationMs === null ? Infinity : o.startedAt + config.durationMs / scale;
  const pacer = createPacer(
    config.ratePerSec === null ? null : config.ratePerSec * scale,
    o.startedAt,
    PACED_TICK_MS,
  );
  for (;;) {
    if (signal?.aborted) return 'stopped';
    if (sender.failure !== null || (source.total !== null && tally.generated >= source.total)) break;
    const now = Date.now();
    if (now >= deadline) break;
    if (sender.queued >= highWater) {
      sender.kick();
      await race(sender.nextCompletion(), deadline - now, signal);
      continue;
    }
    // A timed scenario's events go when their event time comes, on top of any paced traffic.
    // (The clock is read only when something is timed: each reading is an event time.)
    const timed = source.nextDueTs() === null ? [] : source.due(time.now());
    for (const g of timed) sender.push(bookingKey(g.change), g.change, KIND_INDEX[g.kind]!);
    tally.generated += timed.length;
    let n = source.next === null ? 0 : Math.min(config.batchSize, highWater - sender.queued, pacer.due(now));
    if (source.total !== null) n = Math.min(n, source.total - tally.generated);
    if (n <= 0 && timed.length === 0) {
      const nextTs = source.nextDueTs();
      const timedWaitMs = nextTs === null ? Infinity : Math.max(1, (nextTs - time.now()) / scale);
      const pacedWaitMs = source.next === null ? Infinity : pacer.waitMs(now);
      await sleep(Math.min(pacedWaitMs, timedWaitMs, deadline - now, 1000), signal);
      continue;
    }
    for (let i = 0; i < n; i++) {
      const g = source.next!(time.now());
      sender.push(bookingKey(g.change), g.change, KIND_INDEX[g.kind]!);
    }
    if (n > 0) pacer.took(n);
    tally.generated += Math.max(0, n);
    sender.kick();
    await yieldToIo();
  }
  return 'completed';
}

function summarize(
  status: ProduceSummary['status'],
  topic: string,
  sending: TalliedSender,
  source: Source,
  durationMs: number,
): ProduceSummary {
  const { tally } = sending;
  const summary: ProduceSummary = {
    status,
    topic,
    acknowledged: sending.acknowledged,
    acknowledgedTotal: tally.acked,
    failed: tally.failed,
    unanswered: tally.unanswered,
    notSent: tally.notSent,
    generated: tally.generated,
    dirty: source.dirty(),
    durationMs,
    eventsPerSec: durationMs > 0 ? (tally.acked * 1000) / durationMs : 0,
    source: source.summary,
  };
  const error = sending.lastError() ?? sending.sender.failure;
  if (error) summary.error = errorMessage(error);
  return summary;
}
