import { randomBytes } from 'node:crypto';
import type { Admin, PartitionMetadata } from 'kafkajs';
import {
  CdcError,
  createEncoder,
  createKafka,
  createRegistryClient,
  ensureTopics,
  errorMessage,
  loadSchema,
  startOpsServer,
  topicNames,
  valueSubject,
  type BookingChange,
  type ConnectionConfig,
  type Encoder,
  type Logger,
  type LogLevel,
  type OpsServer,
} from '@cdc/core';
import type { ProduceConfig } from './config';
import { CHANGE_KINDS, createGenerator, type Generated, type GeneratorConfig } from './generator';
import { kafkaLogger } from './kafka-logger';
import { createProducerMetrics } from './metrics';
import { createProgress, type Progress, type ProgressMode } from './progress';
import { createSender, type SendCounts } from './sender';
import { emptyByKind, type ProduceSummary } from './summary';

/** Partitions of the contract's topics when this run has to create them. */
export const DEFAULT_PARTITIONS = 3;

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

interface Source {
  next(ts: number): Generated;
  total: number | null;
  dirty(): number;
}

const KIND_INDEX = Object.fromEntries(CHANGE_KINDS.map((k, i) => [k, i])) as Record<string, number>;

function bookingKey(c: BookingChange): string {
  return (c.after ?? c.before)!.booking_id;
}

const MAX_TIMER_MS = 2_147_483_647;
const never = (): Promise<void> => new Promise<void>(() => undefined);

/** Aborts with `ms` or with `signal`; returns 'timeout' | 'aborted' | the promise's value. */
async function race<T>(p: Promise<T>, ms: number, signal?: AbortSignal): Promise<T | 'timeout' | 'aborted'> {
  if (signal?.aborted) return 'aborted';
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<'timeout'>((resolve) => {
        if (Number.isFinite(ms))
          timer = setTimeout(() => resolve('timeout'), Math.min(MAX_TIMER_MS, Math.max(0, ms)));
      }),
      new Promise<'aborted'>((resolve) => {
        onAbort = () => resolve('aborted');
        signal?.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}

async function connectKafka(
  admin: Admin,
  topic: string,
  connection: ConnectionConfig,
): Promise<{ partitions: PartitionMetadata[]; nextSeq: number }> {
  try {
    await admin.connect();
    await ensureTopics(admin, topicNames(connection.topicPrefix), DEFAULT_PARTITIONS);
    const [offsets, meta] = await Promise.all([
      admin.fetchTopicOffsets(topic),
      admin.fetchTopicMetadata({ topics: [topic] }),
    ]);
    // Every booking and every change ever produced has its own record, so numbering from the
    // number of records the topic ever held keeps ids and seqs unique across runs.
    const written = offsets.reduce((sum, p) => sum + Number(p.high), 0);
    return { partitions: meta.topics[0]?.partitions ?? [], nextSeq: written + 1 };
  } catch (err) {
    if (err instanceof CdcError) throw err;
    throw new CdcError(
      'BROKER_UNAVAILABLE',
      `cannot use Kafka at ${connection.brokers.join(',')}: ${errorMessage(err)} (is the stack running? try \`cdc stack up\`)`,
      { retriable: true, cause: err },
    );
  }
}

/** Produces changes to the bronze topic as `config` says; resolves with what was acknowledged. */
export async function runProducer(config: ProduceConfig, ctl: RunControls): Promise<ProduceSummary> {
  const { connection, logger } = ctl;
  const topic = topicNames(connection.topicPrefix).bronze;
  const clock = ctl.clock ?? Date.now;
  const connectTimeoutMs = ctl.connectTimeoutMs ?? 15_000;

  // The registry first: it answers (or not) within its own timeout.
  const { text, type } = loadSchema('BookingChange');
  const registry = createRegistryClient(connection.registryUrl, {
    timeoutMs: Math.min(5000, connectTimeoutMs),
  });
  // Registers the schema (or finds it); the sender encodes with its id, straight into chunks.
  const encoder: Encoder<BookingChange> = await createEncoder<BookingChange>(
    registry,
    valueSubject(topic),
    text,
    type,
  );

  const kafka = createKafka(connection, kafkaLogger(logger.level as LogLevel), {
    connectionTimeoutMs: 3000,
    retries: connectTimeoutMs >= 12_000 ? 2 : 1,
  });
  const admin = kafka.admin();
  let connected: Awaited<ReturnType<typeof connectKafka>>;
  try {
    const r = await race(connectKafka(admin, topic, connection), connectTimeoutMs);
    if (r === 'timeout' || r === 'aborted') {
      throw new CdcError(
        'BROKER_UNAVAILABLE',
        `Kafka at ${connection.brokers.join(',')} did not answer within ${connectTimeoutMs / 1000} s (is the stack running? try \`cdc stack up\`)`,
        { retriable: true },
      );
    }
    connected = r;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }

  let source: Source;
  let summarySource: ProduceSummary['source'];
  if (config.source.kind === 'scenario') {
    const events = config.source.scenario.events;
    let i = 0;
    source = { next: () => events[i++]!, total: events.length, dirty: () => 0 };
    summarySource = { kind: 'scenario', name: config.source.scenario.name };
  } else {
    const g: GeneratorConfig = {
      ...config.source.generator,
      runId: config.source.generator.runId ?? randomBytes(4).toString('hex'),
      firstSeq: connected.nextSeq,
      firstBookingNumber: connected.nextSeq,
    };
    const gen = createGenerator(g);
    source = { next: (ts) => gen.next(ts), total: config.count, dirty: () => gen.stats().dirty };
    summarySource = { kind: 'generator', seed: g.seed, runId: g.runId, firstSeq: g.firstSeq };
  }

  const metrics = createProducerMetrics();
  metrics.setTargetRate(config.ratePerSec);
  const acknowledged = emptyByKind();
  const tally = { sent: 0, acked: 0, failed: 0 };
  let lastError: Error | null = null;
  const sender = createSender({
    connection,
    topic,
    partitions: connected.partitions.length,
    lanes: config.producers,
    batchSize: config.batchSize,
    schemaId: encoder.schemaId,
    type,
    kinds: CHANGE_KINDS.length,
    logLevel: logger.level as LogLevel,
    events: {
      sent: (c: SendCounts) => {
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
        logger.error({ err: errorMessage(err), events: c.total }, 'send failed after retries; stopping');
      },
    },
  });

  let ops: OpsServer | null = null;
  let generated = 0;
  let status: ProduceSummary['status'] = 'completed';
  let startedAt = Date.now();
  let progress: Progress | undefined;
  const snapshot = () => ({
    generated,
    sent: tally.sent,
    acked: tally.acked,
    inFlight: sender.inFlight,
    failed: tally.failed,
  });
  let progressTimer: NodeJS.Timeout | undefined;
  let unanswered = 0;
  let notSent = 0;

  try {
    const c = await race(sender.connect(), connectTimeoutMs);
    if (c === 'timeout')
      throw new CdcError('BROKER_UNAVAILABLE', 'the Kafka producers did not connect in time');
    if (config.opsPort !== null) {
      ops = await startOpsServer({
        port: config.opsPort,
        metrics: metrics.registry,
        logger,
        health: () => ({
          ok: sender.failure === null,
          status: sender.failure === null ? 'producing' : 'failed',
          ...snapshot(),
        }),
      });
    }
    logger.info(
      {
        topic,
        partitions: connected.partitions.length,
        ratePerSec: config.ratePerSec ?? 'max',
        count: source.total,
        durationMs: config.durationMs,
        source: summarySource,
      },
      'producing booking changes',
    );
    ctl.onStarted?.({ topic, opsPort: ops?.port ?? null, partitions: connected.partitions.length });
    const bar = createProgress({ mode: ctl.progress ?? 'auto', total: source.total, logger });
    progress = bar;
    progressTimer = setInterval(() => {
      metrics.setInFlight(sender.inFlight);
      bar.update(snapshot());
    }, bar.intervalMs);
    progressTimer.unref();

    startedAt = Date.now();
    const highWater =
      config.batchSize * Math.max(1, Math.min(config.producers, connected.partitions.length)) * 2;
    const deadline = config.durationMs === null ? Infinity : startedAt + config.durationMs;
    let paceFrom = startedAt;
    let pacedCount = 0;
    for (;;) {
      if (ctl.signal?.aborted) {
        status = 'stopped';
        break;
      }
      if (sender.failure !== null || (source.total !== null && generated >= source.total)) break;
      const now = Date.now();
      if (now >= deadline) break;
      if (sender.queued >= highWater) {
        sender.kick();
        await race(sender.nextCompletion(), deadline - now, ctl.signal);
        continue;
      }
      let n = Math.min(config.batchSize, highWater - sender.queued);
      if (source.total !== null) n = Math.min(n, source.total - generated);
      if (config.ratePerSec !== null) {
        const rate = config.ratePerSec;
        // Behind by more than a second (a slow broker): do not burst to catch up.
        if ((now - paceFrom) * rate - pacedCount * 1000 > rate * 1000) {
          paceFrom = now;
          pacedCount = 0;
        }
        const due = Math.floor(((now - paceFrom) * rate) / 1000) + 1 - pacedCount;
        if (due <= 0) {
          const wait = paceFrom + (pacedCount * 1000) / rate - now;
          await race(never(), Math.min(Math.max(1, wait), deadline - now), ctl.signal);
          continue;
        }
        n = Math.min(n, due);
        pacedCount += n;
      }
      for (let i = 0; i < n; i++) {
        const g = source.next(clock());
        sender.push(bookingKey(g.change), g.change, KIND_INDEX[g.kind]!);
      }
      generated += n;
      sender.kick();
      await new Promise<void>((resolve) => setImmediate(resolve));
    }

    // Finish: a completed run sends what it generated; a stopped or failed one sends no more.
    if (status === 'completed' && sender.failure === null) {
      const r = await race(sender.drained(), Infinity, ctl.signal);
      if (r === 'aborted') status = 'stopped';
    }
    notSent = sender.discard();
    const drainTimeoutMs = ctl.drainTimeoutMs ?? 30_000;
    if ((await race(sender.drained(), drainTimeoutMs)) === 'timeout') {
      unanswered = sender.inFlight;
      logger.error(
        { unanswered },
        `in-flight sends unanswered after ${drainTimeoutMs} ms; giving up on them`,
      );
    }
    if (sender.failure !== null || lastError !== null) status = 'failed';
  } finally {
    clearInterval(progressTimer);
    progress?.stop(snapshot());
    await sender.close(unanswered > 0 ? 0 : 10_000);
    await ops?.close();
  }

  const durationMs = Date.now() - startedAt;
  const summary: ProduceSummary = {
    status,
    topic,
    acknowledged,
    acknowledgedTotal: tally.acked,
    failed: tally.failed,
    unanswered,
    notSent,
    generated,
    dirty: source.dirty(),
    durationMs,
    eventsPerSec: durationMs > 0 ? (tally.acked * 1000) / durationMs : 0,
    source: summarySource,
  };
  if (lastError !== null) summary.error = errorMessage(lastError);
  logger.info({ ...summary }, `producer ${status}`);
  return summary;
}
