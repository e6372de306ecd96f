import {
  CdcError,
  errorMessage,
  startOpsServer,
  type BookingChange,
  type ConnectionConfig,
  type Logger,
  type LogLevel,
  type OpsServer,
} from '@cdc/core';
import type { ProduceConfig } from './config';
import { prepareBronze } from './connect';
import { CHANGE_KINDS } from './generator';
import { createProducerMetrics } from './metrics';
import { createPacer } from './pacer';
import { createProgress, type Progress, type ProgressMode } from './progress';
import { createSender } from './sender';
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
}

const KIND_INDEX = Object.fromEntries(CHANGE_KINDS.map((k, i) => [k, i])) as Record<string, number>;
const bookingKey = (c: BookingChange): string => (c.after ?? c.before)!.booking_id;

/** Produces changes to the bronze topic as `config` says; resolves with what was acknowledged. */
export async function runProducer(config: ProduceConfig, ctl: RunControls): Promise<ProduceSummary> {
  const { connection, logger, signal } = ctl;
  const logLevel = logger.level as LogLevel;
  // --time-scale: event time runs `timeScale` times faster than the clock, from the start.
  const baseClock = ctl.clock ?? Date.now;
  const scale = config.timeScale;
  const t0 = baseClock();
  const clock = scale === 1 ? baseClock : () => t0 + (baseClock() - t0) * scale;
  const connectTimeoutMs = ctl.connectTimeoutMs ?? 15_000;
  const bronze = await prepareBronze(connection, logLevel, connectTimeoutMs);
  const { topic } = bronze;
  const source = createSource(config, bronze.nextSeq, t0);

  const metrics = createProducerMetrics();
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
    events: {
      sent: (c) => {
        tally.sent += c.total;
        metrics.sent(c);
      },
      acked: (c) => {
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

  let ops: OpsServer | null = null;
  let progress: Progress | undefined;
  let progressTimer: NodeJS.Timeout | undefined;
  let status: ProduceSummary['status'] = 'completed';
  let startedAt = Date.now();
  try {
    if ((await race(sender.connect(), connectTimeoutMs)) === 'timeout') {
      throw new CdcError(
        'BROKER_UNAVAILABLE',
        `the Kafka producers did not connect within ${connectTimeoutMs} ms`,
      );
    }
    if (config.opsPort !== null) {
      ops = await startOpsServer({
        port: config.opsPort,
        metrics: metrics.registry,
        logger,
        health: () => ({
          ok: sender.failure === null,
          status: sender.failure ? 'failed' : 'producing',
          ...snapshot(),
        }),
      });
    }
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
    const pacer = createPacer(config.ratePerSec === null ? null : config.ratePerSec * scale, startedAt);
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
      const timed = source.due(clock());
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
    if (status === 'completed' && sender.failure === null) {
      if ((await race(sender.drained(), Infinity, signal)) === 'aborted') status = 'stopped';
    }
    tally.notSent = sender.discard();
    const drainTimeoutMs = ctl.drainTimeoutMs ?? 30_000;
    if ((await race(sender.drained(), drainTimeoutMs)) === 'timeout') {
      tally.unanswered = sender.inFlight;
      logger.error(
        { unanswered: tally.unanswered },
        `sends unanswered after ${drainTimeoutMs} ms; giving up`,
      );
    }
    if (sender.failure !== null) status = 'failed';
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
