import {
  ConfigError,
  createControlClient,
  type ControlClient,
  createDecoder,
  createEncoder,
  createKafka,
  createRegistryClient,
  loadSchema,
  OutageTracker,
  retryWhileOutage,
  valueSubject,
  type BookingChange,
  type EnrichedBookingChange,
  type Encoder,
  type Logger,
  type RegistryClient,
  IDLE_FETCH_WAIT_MS,
  type Admin,
} from '@cdc/core';
import { startOpsServer, type OpsServer } from '@cdc/observe';
import { transactionalIdFor, type EnricherConfig } from './config';
import { startEnrichLoop, type EnrichLoop } from './enrich-loop';
import { createPeerFencer } from './peer-fencing';
import { EnricherMetrics, type EnricherStats } from './metrics';
import { startSettingsSync, type SettingsSync } from './settings-sync';
import type { EnrichDeps } from './transform';

/**
 * The enricher: bronze → silver (+ dead letters), exactly once. A read-committed consumer
 * (autoCommit off) feeds eachBatch; the batch's silver records, its dead letters and its input
 * offsets go into one Kafka transaction (see committer.ts); offsets are resolved only after it
 * commits (see batch-handler.ts). It derives with the pipeline's settings from the control topic
 * and follows their changes without a restart (settings-sync.ts).
 */
export interface Enricher {
  readonly opsPort: number;
  readonly metrics: EnricherMetrics;
  stats(): EnricherStats;
  health(): { ok: boolean; [detail: string]: unknown };
  /** Resolves if the enricher stops by itself (a consumer crash kafkajs does not restart), with the reason. */
  readonly stopped: Promise<Error>;
  /** Stops consuming, lets the in-flight transaction finish, disconnects everything. Idempotent. */
  close(): Promise<void>;
  /** What stopping now would leave undone (empty: nothing). */
  unfinishedWork(): string[];
}

export interface EnricherStartOptions {
  /**
   * Aborted when the process is asked to stop: waits for an unreachable broker or registry at
   * start end (the start rejects with an AbortedError) and the consumer is not restarted.
   */
  signal?: AbortSignal;
}

export async function startEnricher(
  config: EnricherConfig,
  logger: Logger,
  options: EnricherStartOptions = {},
): Promise<Enricher> {
  const log = logger.child({ component: 'enricher', instanceId: config.instanceId });
  const { signal } = options;
  // An unreachable broker or registry is waited out, at start and while running: one warning
  // per outage, /healthz 503 with the reason while it lasts (core's lifecycle/outage.ts).
  const outages = new OutageTracker({ logger: log });
  const retry = <T>(what: string, fn: () => Promise<T>): Promise<T> =>
    retryWhileOutage(fn, { outages, what, signal });
  const kafka = createKafka(config.connection, logger, { outages });
  const metrics = new EnricherMetrics();
  const closers: (() => Promise<void>)[] = [];
  let fatal: Error | null = null;
  let closing: Promise<void> | null = null;
  let resolveStopped: (err: Error) => void = () => undefined;
  const stopped = new Promise<Error>((resolve) => (resolveStopped = resolve));
  const stop = (err: Error): void => {
    fatal ??= err;
    resolveStopped(err);
  };

  const admin: Admin = kafka.admin();
  let loop: EnrichLoop | null = null;
  let sync: SettingsSync | null = null;
  let ops: OpsServer | null = null;
  let controlTopic: ControlClient | null = null;

  const health = () => ({
    ok: (loop?.joined ?? false) && fatal === null && (loop?.committer.ready ?? false) && closing === null,
    instanceId: config.instanceId,
    groupId: config.groupId,
    transactionalId: config.transactionalId,
    derivation: sync?.health() ?? null,
    joined: loop?.joined ?? false,
    generation: loop?.state.generation ?? 0,
    assigned: loop?.state.assigned() ?? [],
    ...(fatal ? { error: fatal.message } : {}),
    stats: metrics.snapshot(),
  });

  const close = (): Promise<void> => {
    closing ??= (async () => {
      log.info('stopping');
      sync?.close();
      // The control-topic reader stops alongside the bronze consumer: each waits out its fetch in
      // flight (up to IDLE_FETCH_WAIT_MS), so one after the other took twice that. The loop still
      // lets its transaction in flight commit or abort before its producer closes; a batch that
      // would first read the control topic (the first of a generation) fails fast, before any
      // transaction, and is read again by the next owner.
      const controlClosed = controlTopic?.close().catch(() => undefined);
      await loop?.close();
      await controlClosed;
      for (const c of closers.reverse()) await c().catch(() => undefined);
      log.info('stopped');
    })();
    return closing;
  };

  try {
    ops = await startOpsServer({
      port: config.opsPort,
      metrics: metrics.registry,
      health,
      logger,
      outages,
      portSetting: { option: '--ops-port', env: 'ENRICHER_OPS_PORT' },
    });
    const opsServer = ops;
    closers.push(() => opsServer.close());
    closers.push(() => admin.disconnect());
    await retry('connecting to Kafka', async () => {
      await admin.connect();
      await checkTopics(admin, config);
    });

    const registry = createRegistryClient(config.connection);
    const control = createControlClient({
      kafka,
      registry,
      topic: config.topics.control,
      logger,
      groupPrefix: `${config.groupId}.${config.instanceId}`,
      maxWaitMs: IDLE_FETCH_WAIT_MS,
      outages,
      stopping: () => closing !== null || signal?.aborted === true,
    });
    controlTopic = control;
    const settings = await retry('reading the derivation settings', () =>
      startSettingsSync({
        control,
        groupId: config.groupId,
        instanceId: config.instanceId,
        timeZone: config.timeZone,
        logger,
        onFatal: stop,
        retryInitialMs: config.retryInitialMs,
        retryMaxMs: config.retryMaxMs,
      }),
    );
    sync = settings;
    const codec = await retry('registering the silver schema', () => silverCodec(registry, config));

    // Before the first batch of each generation: the control topic read to its end (see settings-sync.ts).
    let ready: { generation: number; promise: Promise<void> } | null = null;
    const beforeBatch = (generation: number): Promise<void> => {
      if (ready?.generation !== generation) {
        const promise = settings.catchUp();
        ready = { generation, promise };
        promise.catch(() => {
          if (ready?.promise === promise) ready = null;
        });
      }
      return ready.promise;
    };

    // A transaction left open by an instance that is gone for good holds silver's readers back
    // until the broker times it out: fence such instances after each join (peer-fencing.ts).
    const fencer = createPeerFencer({
      kafka,
      admin,
      groupId: config.groupId,
      instanceId: config.instanceId,
      transactionalIdOf: (instanceId) => transactionalIdFor(config.groupId, instanceId),
      acks: () => control.state.enrichers.values(),
      transactionTimeoutMs: config.transactionTimeoutMs,
      logger,
    });
    closers.push(() => fencer.close());
    loop = await startEnrichLoop({
      config,
      kafka,
      admin,
      logger,
      metrics,
      codec,
      derivations: settings.derivations,
      beforeBatch,
      onJoin: (memberId) => {
        settings.joined(memberId);
        fencer.afterJoin();
      },
      outages,
      signal,
      // Static membership: a restarted instance takes its partitions back at once.
      groupInstanceId: config.instanceId,
    });
    void loop.stopped.then(stop);
    log.info(
      {
        bronze: config.topics.bronze,
        silver: config.topics.silver,
        deadLetter: config.topics.deadLetter,
        groupId: config.groupId,
        transactionalId: config.transactionalId,
        derivation: settings.health(),
      },
      'enricher running',
    );
  } catch (err) {
    await close();
    throw err;
  }

  const opsPort = ops.port;
  return {
    opsPort,
    metrics,
    stats: () => metrics.snapshot(),
    health,
    stopped,
    close,
    unfinishedWork: () => loop?.unfinishedWork() ?? [],
  };
}

async function checkTopics(admin: Admin, config: EnricherConfig): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const wanted = [
    config.topics.bronze,
    config.topics.silver,
    config.topics.deadLetter,
    config.topics.control,
  ];
  const missing = wanted.filter((t) => !existing.has(t));
  if (missing.length > 0) {
    throw new ConfigError(
      `topic(s) ${missing.join(', ')} do not exist (TOPIC_PREFIX=${JSON.stringify(config.connection.topicPrefix)}): create them with \`cdc topics create\``,
    );
  }
}

/**
 * Bronze decoder and silver encoder; the silver schema is registered once (idempotent). An
 * unreachable registry throws a retriable RegistryError: the caller waits it out.
 */
export async function silverCodec(
  registry: RegistryClient,
  config: EnricherConfig,
): Promise<Pick<EnrichDeps, 'decode' | 'decodeKnown' | 'encode'>> {
  const { text, type } = loadSchema('EnrichedBookingChange');
  const encoder: Encoder<EnrichedBookingChange> = await createEncoder<EnrichedBookingChange>(
    registry,
    valueSubject(config.topics.silver),
    text,
    type,
  );
  const decoder = createDecoder<BookingChange>(registry, loadSchema('BookingChange').type);
  return {
    decode: (value) => decoder.decode(value),
    decodeKnown: (value) => decoder.decodeKnown(value),
    encode: (value) => encoder.encode(value),
  };
}
