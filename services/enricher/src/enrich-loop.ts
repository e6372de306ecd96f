import {
  createPipelineConsumer,
  retryWhileOutage,
  type Logger,
  type OutageTracker,
  IDLE_FETCH_WAIT_MS,
  type Admin,
  type Consumer,
  type Kafka,
} from '@cdc/core';
import { createBatchHandler, type BatchHandlerDeps } from './batch-handler';
import { TransactionCommitter } from './committer';
import type { EnricherConfig } from './config';
import type { DerivationSource } from './derivations';
import { GroupState } from './group-state';
import type { EnricherMetrics } from './metrics';
import type { EnrichDeps } from './transform';

/**
 * The exactly-once machinery shared by the live enricher and a backfill: a read-committed
 * consumer of bronze in `config.groupId` feeding the batch handler, and one transactional
 * producer (`config.transactionalId`) committing silver, dead letters and input offsets together.
 * Before the consumer reads offsets, the producer fences the previous incarnation of its
 * transactional id (its open transaction is aborted, or its commit completed).
 */
export interface EnrichLoopOptions {
  config: EnricherConfig;
  kafka: Kafka;
  admin: Admin;
  logger: Logger;
  metrics: EnricherMetrics;
  /** Bronze decoder and silver encoder (service.ts: `silverCodec`). */
  codec: Pick<EnrichDeps, 'decode' | 'decodeKnown' | 'encode'>;
  derivations: DerivationSource;
  rangeEnd?: BatchHandlerDeps['rangeEnd'];
  beforeBatch?: BatchHandlerDeps['beforeBatch'];
  onCommitted?: BatchHandlerDeps['onCommitted'];
  /** Heard on every group join, with this member's id. */
  onJoin?: (memberId: string) => void;
  deadLetterHeaders?: Record<string, string>;
  /**
   * Where a partition without a committed offset starts (a backfill's range start) instead of
   * the earliest offset: the consumer seeks there, and records below it are skipped regardless.
   */
  startOffsets?: Map<number, number>;
  /** Broker and registry outages: reported here, waited out. */
  outages?: OutageTracker;
  /** Aborted when the process stops (ends waits for the broker at start). */
  signal?: AbortSignal;
  /**
   * Static group membership: this instance's stable id (a restart takes its partitions back at
   * once). Default: one random id per process.
   */
  groupInstanceId?: string;
}

export interface EnrichLoop {
  readonly state: GroupState;
  readonly committer: TransactionCommitter;
  readonly joined: boolean;
  /** Resolves if the consumer stops by itself (a crash kafkajs does not restart), with the reason. */
  readonly stopped: Promise<Error>;
  /** Stops consuming, lets the in-flight transaction finish, disconnects. Idempotent. */
  close(): Promise<void>;
  /** What stopping now would leave undone (see the committer). */
  unfinishedWork(): string[];
}

export async function startEnrichLoop(o: EnrichLoopOptions): Promise<EnrichLoop> {
  const { config, kafka, admin, logger, metrics } = o;
  const log = logger.child({ component: 'enrich-loop', groupId: config.groupId });
  let resolveStopped: (err: Error) => void = () => undefined;
  const stopped = new Promise<Error>((resolve) => (resolveStopped = resolve));
  let joined = false;
  let consumer: Consumer | null = null;
  let closing: Promise<void> | null = null;

  const state = new GroupState(async (topic, partition) => {
    const [t] = await admin.fetchOffsets({ groupId: config.groupId, topics: [topic] });
    const committed = Number(t?.partitions.find((x) => x.partition === partition)?.offset ?? -1);
    return committed >= 0 ? committed : (o.startOffsets?.get(partition) ?? -1);
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
    transactionLingerMs: config.transactionLingerMs,
    sendMaxBytes: config.sendMaxBytes,
    retryInitialMs: config.retryInitialMs,
    retryMaxMs: config.retryMaxMs,
    isOwned: (unit) => state.isOwned(unit),
    outages: o.outages,
  });

  const close = (): Promise<void> => {
    closing ??= (async () => {
      committer.beginClose();
      // The consumer waits for running batches, which wait for their transactions.
      await consumer?.disconnect().catch((err: unknown) => log.warn({ err }, 'consumer'));
      await committer.close();
    })();
    return closing;
  };

  try {
    if (o.outages) {
      await retryWhileOutage(() => committer.start(), {
        outages: o.outages,
        what: 'starting the transactional producer',
        signal: o.signal,
      });
    } else await committer.start();

    const c = createPipelineConsumer(kafka, {
      logger,
      outages: o.outages,
      groupInstanceId: o.groupInstanceId,
      leaveGroupOnStop: config.leaveGroupOnStop,
      stopping: () => closing !== null || o.signal?.aborted === true,
      onFatal: (err) => resolveStopped(err),
      groupId: config.groupId,
      readUncommitted: false,
      allowAutoTopicCreation: false,
      sessionTimeout: config.sessionTimeoutMs,
      heartbeatInterval: config.heartbeatIntervalMs,
      maxBytes: config.fetchMaxBytes,
      maxBytesPerPartition: config.fetchMaxBytesPerPartition,
      maxWaitTimeInMs: IDLE_FETCH_WAIT_MS,
    });
    consumer = c;
    c.on(c.events.GROUP_JOIN, ({ payload }) => {
      state.joined(payload.memberAssignment);
      joined = true;
      metrics.groupJoined();
      log.info({ generation: state.generation, assigned: state.assigned() }, 'joined the group');
      o.onJoin?.(payload.memberId);
    });
    c.on(c.events.REBALANCING, () => state.markRebalancing());
    c.on(c.events.CRASH, () => metrics.consumerCrashed());
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
          decode: o.codec.decode,
          decodeKnown: o.codec.decodeKnown,
          encode: o.codec.encode,
          maxValueBytes: config.sendMaxBytes,
          deadLetterHeaders: o.deadLetterHeaders,
        },
        derivations: o.derivations,
        rangeEnd: o.rangeEnd,
        beforeBatch: o.beforeBatch,
        onCommitted: o.onCommitted,
        chunkRecords: config.chunkRecords,
        heartbeatIntervalMs: config.heartbeatIntervalMs,
        retryInitialMs: config.retryInitialMs,
        retryMaxMs: config.retryMaxMs,
        logger,
        outages: o.outages,
      }),
    });
    if (o.startOffsets) {
      const [t] = await admin.fetchOffsets({ groupId: config.groupId, topics: [config.topics.bronze] });
      const committed = new Set(t?.partitions.filter((p) => Number(p.offset) >= 0).map((p) => p.partition));
      for (const [partition, offset] of o.startOffsets) {
        if (!committed.has(partition))
          c.seek({ topic: config.topics.bronze, partition, offset: String(offset) });
      }
    }
  } catch (err) {
    await close();
    throw err;
  }
  return {
    state,
    committer,
    get joined() {
      return joined;
    },
    stopped,
    close,
    unfinishedWork: () => committer.unfinishedWork(),
  };
}
