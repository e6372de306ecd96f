import type { Admin, Consumer } from 'kafkajs';
import {
  ConfigError,
  createDecoder,
  createEncoder,
  createKafka,
  createRegistryClient,
  errorMessage,
  loadSchema,
  RegistryError,
  sleep,
  startOpsServer,
  valueSubject,
  type BookingChange,
  type EnrichedBookingChange,
  type Encoder,
  type Logger,
  type OpsServer,
  type RegistryClient,
} from '@cdc/core';
import { createBatchHandler } from './batch-handler';
import { TransactionCommitter } from './committer';
import type { EnricherConfig } from './config';
import { createDeriver } from './derive';
import { GroupState } from './group-state';
import { EnricherMetrics, type EnricherStats } from './metrics';
import { backoffMs } from './tx-plan';

/**
 * The enricher: bronze → silver (+ dead letters), exactly once. A read-committed consumer
 * (autoCommit off) feeds eachBatch; the batch's silver records, its dead letters and its input
 * offsets go into one Kafka transaction (see committer.ts); offsets are resolved only after it
 * commits (see batch-handler.ts).
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
}

const STARTUP_REGISTRY_DEADLINE_MS = 60_000;

export async function startEnricher(config: EnricherConfig, logger: Logger): Promise<Enricher> {
  const log = logger.child({ component: 'enricher', instanceId: config.instanceId });
  const deriver = createDeriver(config.timeZone);
  const kafka = createKafka(config.connection, logger);
  const metrics = new EnricherMetrics();
  const closers: (() => Promise<void>)[] = [];
  let fatal: Error | null = null;
  let joined = false;
  let closing: Promise<void> | null = null;
  let resolveStopped: (err: Error) => void = () => undefined;
  const stopped = new Promise<Error>((resolve) => (resolveStopped = resolve));

  const state = new GroupState(async (topic, partition) => {
    const [t] = await admin.fetchOffsets({ groupId: config.groupId, topics: [topic] });
    const p = t?.partitions.find((x) => x.partition === partition);
    return p ? Number(p.offset) : -1;
  });
  const committer = new TransactionCommitter({
    kafka,
    logger,
    metrics,
    transactionalId: config.transactionalId,
    groupId: config.groupId,
    topics: { silver: config.topics.silver, deadLetter: config.topics.deadLetter },
    transactionTimeoutMs: config.transactionTimeoutMs,
    transactionMaxRecords: config.transactionMaxRecords,
    sendMaxBytes: config.sendMaxBytes,
    retryInitialMs: config.retryInitialMs,
    retryMaxMs: config.retryMaxMs,
    isOwned: (unit) => state.isOwned(unit),
  });

  const health = () => ({
    ok: joined && fatal === null && committer.ready && closing === null,
    instanceId: config.instanceId,
    groupId: config.groupId,
    transactionalId: config.transactionalId,
    timeZone: config.timeZone,
    joined,
    generation: state.generation,
    assigned: state.assigned(),
    ...(fatal ? { error: fatal.message } : {}),
    stats: metrics.snapshot(),
  });

  const admin: Admin = kafka.admin();
  let consumer: Consumer | null = null;
  let ops: OpsServer | null = null;

  const close = (): Promise<void> => {
    closing ??= (async () => {
      log.info('stopping');
      committer.beginClose();
      // The consumer waits for running batches, which wait for their transactions.
      await consumer?.disconnect().catch((err: unknown) => log.warn({ err: errorMessage(err) }, 'consumer'));
      await committer.close();
      for (const c of closers.reverse()) await c().catch(() => undefined);
      log.info('stopped');
    })();
    return closing;
  };

  try {
    ops = await startOpsServer({ port: config.opsPort, metrics: metrics.registry, health, logger });
    const opsServer = ops;
    closers.push(() => opsServer.close());
    await admin.connect();
    closers.push(() => admin.disconnect());
    await checkTopics(admin, config);

    const registry = createRegistryClient(config.connection.registryUrl);
    const encoder = await registerSilverSchema(registry, config, log);
    const decoder = createDecoder<BookingChange>(registry, loadSchema('BookingChange').type);

    // Before consuming: fence the previous incarnation of this transactional id, so its open
    // transaction is aborted (or its commit completed) and the committed offsets are final.
    await committer.start();

    const c = kafka.consumer({
      groupId: config.groupId,
      readUncommitted: false,
      allowAutoTopicCreation: false,
      sessionTimeout: config.sessionTimeoutMs,
      heartbeatInterval: config.heartbeatIntervalMs,
      maxBytes: config.fetchMaxBytes,
      maxBytesPerPartition: config.fetchMaxBytesPerPartition,
      maxWaitTimeInMs: 500,
    });
    consumer = c;
    c.on(c.events.GROUP_JOIN, ({ payload }) => {
      state.joined(payload.memberAssignment);
      joined = true;
      metrics.groupJoined();
      log.info({ generation: state.generation, assigned: state.assigned() }, 'joined the group');
    });
    c.on(c.events.REBALANCING, () => state.markRebalancing());
    c.on(c.events.CRASH, ({ payload }) => {
      metrics.consumerCrashed();
      log.error({ err: errorMessage(payload.error), restart: payload.restart }, 'consumer crashed');
      if (!payload.restart) {
        fatal = payload.error;
        resolveStopped(payload.error);
      }
    });
    await c.connect();
    await c.subscribe({ topic: config.topics.bronze, fromBeginning: true });
    await c.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: config.partitionsConcurrency,
      eachBatch: createBatchHandler({
        committer,
        state,
        metrics,
        enrich: {
          decode: (value) => decoder.decode(value),
          deriver,
          encode: (value) => encoder.encode(value),
          maxValueBytes: config.sendMaxBytes,
        },
        chunkRecords: config.chunkRecords,
        heartbeatIntervalMs: config.heartbeatIntervalMs,
        retryInitialMs: config.retryInitialMs,
        retryMaxMs: config.retryMaxMs,
        logger,
      }),
    });
    log.info(
      {
        bronze: config.topics.bronze,
        silver: config.topics.silver,
        deadLetter: config.topics.deadLetter,
        groupId: config.groupId,
        transactionalId: config.transactionalId,
        timeZone: config.timeZone,
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
  };
}

async function checkTopics(admin: Admin, config: EnricherConfig): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const wanted = [config.topics.bronze, config.topics.silver, config.topics.deadLetter];
  const missing = wanted.filter((t) => !existing.has(t));
  if (missing.length > 0) {
    throw new ConfigError(
      `topic(s) ${missing.join(', ')} do not exist (TOPIC_PREFIX=${JSON.stringify(config.connection.topicPrefix)}): create them with \`cdc topics create\``,
    );
  }
}

/** Registers the silver schema, waiting for a registry that is still starting (up to a minute). */
async function registerSilverSchema(
  registry: RegistryClient,
  config: EnricherConfig,
  log: Logger,
): Promise<Encoder<EnrichedBookingChange>> {
  const { text, type } = loadSchema('EnrichedBookingChange');
  const deadline = Date.now() + STARTUP_REGISTRY_DEADLINE_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      return await createEncoder<EnrichedBookingChange>(
        registry,
        valueSubject(config.topics.silver),
        text,
        type,
      );
    } catch (err) {
      if (!(err instanceof RegistryError && err.retriable) || Date.now() > deadline) throw err;
      log.warn({ attempt, err: errorMessage(err) }, 'schema registry not answering; retrying');
      await sleep(backoffMs(attempt, 250, 5000));
    }
  }
}
