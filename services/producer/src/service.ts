import {
  UnavailableError,
  errorMessage,
  OutageTracker,
  retryWhileOutage,
  startOpsServer,
  type BookingChange,
  type ConnectionConfig,
  type Logger,
  type LogLevel,
  type OpsServer,
} from '@cdc/core';
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
  const { connection, logger, signal } = ctl;
  const producerMetrics = createProducerMetrics();
  const metricsRegistry = producerMetrics.registry;
  const logLevel = logger.level as LogLevel;
  // --time-scale: event time runs `timeScale` times faster than the clock, from the start.
  const baseClock = ctl.clock ?? Date.now;
  const scale = config.timeScale;
  // The start is read only when something depends on it (each reading of a test's clock is an
  // event time): a time scale, or a scenario with times relative to the start.
  const relative = config.source.kind === 'scenario' && config.source.scenario.relative;
  const t0 = scale !== 1 || relative ? baseClock() : 0;
  const clock = scale === 1 ? baseClock : () => t0 + (baseClock() - t0) * scale;
  const connectTimeoutMs = ctl.connectTimeoutMs ?? 15_000;
  // An unreachable broker or registry is waited out (one warning per outage, /healthz 503 with the
  // reason): a run until Ctrl-C waits as long as it takes, a bounded run up to --max-outage.
  const outages = new OutageTracker({ logger });
  let phase: 'connecting' | 'producing' = 'connecting';
  let healthBody: () => Record<string, unknown> = () => ({ status: phase });
  let ops: OpsServer | null = null;
  if (config.opsPort !== null) {
    ops = await startOpsServer({
      port: config.opsPort,
      metrics: metricsRegistry,
      logger,
      outages,
      portSetting: { option: '--ops-port' },
      health: () => ({ ok: true, ...healthBody() }),
    });
  }
  let bronze: Awaited<ReturnType<typeof prepareBronze>>;
  try {
    bronze = await retryWhileOutage(() => prepareBronze(connection, logLevel, connectTimeoutMs, outages), {
      outages,
      what: 'preparing the bronze topic',
      signal,
      maxOutageMs: config.maxOutageMs ?? undefined,
      maxMs: 1000,
    });
  } catch (err) {
    await ops?.close();
    throw err;
  }
  const { topic } = bronze;
  const source = createSource(config, bronze.nextSeq, t0);

  const metrics = producerMetrics;
  metrics.setTargetRate(config.ratePerSec);
  const acknowledged = emptyByKind();
  const tally = { generated: 0, sent: 0, acked: 0, failed: 0, unanswered: 0, notSent: 0 };
  let lastError: Error | null = null;
  const sender = createSender({
    connection,
    topic,
    partitions: bronze.partitions.length,
    lanes: config.producers,
    batchSize: config.batchSize,
    schemaId: bronze.schemaId,
    type: bronze.type,
    kinds: CHANGE_KINDS.length,
    logLevel,
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
        logger.error({ err: errorMessage(err), events: c.total }, 'send failed; stopping');
      },
    },
  });
  const snapshot = () => ({
    generated: tally.generated,
    sent: tally.sent,
    acked: tally.acked,
    inFlight: sender.inFlight,
    failed: tally.failed,
  });

  ctl.expose?.(() => ({ inFlight: sender.inFlight, queued: sender.queued }));
  let progress: Progress | undefined;
  let progressTimer: NodeJS.Timeout | undefined;
  let status: ProduceSummary['status'] = 'completed';
  let startedAt = Date.now();
  try {
    if ((await race(sender.connect(), connectTimeoutMs)) === 'timeout') {
      throw new UnavailableError(
        'broker',
        `the Kafka producers did not connect within ${connectTimeoutMs} ms`,
      );
    }
    phase = 'producing';
    healthBody = () => ({
      ok: sender.failure === null,
      status: sender.failure ? 'failed' : phase,
      ...snapshot(),
    });
    logger.info(
      {
        topic,
        partitions: bronze.partitions.length,
        ratePerSec: config.ratePerSec ?? 'max',
        ...(scale === 1 ? {} : { timeScale: scale }),
        count: source.total,
        durationMs: config.durationMs,
        source: source.summary,
      },
      'producing booking changes',
    );
    ctl.onStarted?.({ topic, opsPort: ops?.port ?? null, partitions: bronze.partitions.length });
    const bar = createProgress({ mode: ctl.progress ?? 'auto', total: source.total, logger });
    progress = bar;
    progressTimer = setInterval(() => {
      metrics.setInFlight(sender.inFlight);
      bar.update(snapshot());
    }, bar.intervalMs);
    progressTimer.unref();

    startedAt = Date.now();
    const lanes = Math.max(1, Math.min(config.producers, bronze.partitions.length));
    // Encoded but unsent records are bounded: about two chunks per lane.
    const highWater = config.batchSize * lanes * 2;
    // --rate and --duration are in event time.
    const deadline = config.durationMs === null ? Infinity : startedAt + config.durationMs / scale;
    const pacer = createPacer(
      config.ratePerSec === null ? null : config.ratePerSec * scale,
      startedAt,
      PACED_TICK_MS,
    );
    for (;;) {
      if (signal?.aborted) {
        status = 'stopped';
        break;
      }
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
      const timed = source.nextDueTs() === null ? [] : source.due(clock());
      for (const g of timed) sender.push(bookingKey(g.change), g.change, KIND_INDEX[g.kind]!);
      tally.generated += timed.length;
      let n =
        source.next === null ? 0 : Math.min(config.batchSize, highWater - sender.queued, pacer.due(now));
      if (source.total !== null) n = Math.min(n, source.total - tally.generated);
      if (n <= 0 && timed.length === 0) {
        const nextTs = source.nextDueTs();
        const timedWaitMs = nextTs === null ? Infinity : Math.max(1, (nextTs - clock()) / scale);
        const pacedWaitMs = source.next === null ? Infinity : pacer.waitMs(now);
        await sleep(Math.min(pacedWaitMs, timedWaitMs, deadline - now, 1000), signal);
        continue;
      }
      for (let i = 0; i < n; i++) {
        const g = source.next!(clock());
        sender.push(bookingKey(g.change), g.change, KIND_INDEX[g.kind]!);
      }
      if (n > 0) pacer.took(n);
      tally.generated += Math.max(0, n);
      sender.kick();
      await yieldToIo();
    }

    // A completed run sends everything it generated; a stopped or failed one sends no more.
    const end = await finishSending(sender, {
      completed: status === 'completed',
      signal,
      drainTimeoutMs: ctl.drainTimeoutMs ?? 30_000,
      logger,
    });
    if (end.stopped) status = 'stopped';
    tally.notSent = end.notSent;
    tally.unanswered = end.unanswered;
    if (end.failed) status = 'failed';
  } finally {
    clearInterval(progressTimer);
    progress?.stop(snapshot());
    await sender.close(tally.unanswered > 0 ? 0 : 10_000);
    await ops?.close();
  }

  const durationMs = Date.now() - startedAt;
  const summary: ProduceSummary = {
    status,
    topic,
    acknowledged,
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
  const error = lastError ?? sender.failure;
  if (error) summary.error = errorMessage(error);
  logger.info({ ...summary }, `producer ${status}`);
  return summary;
}
