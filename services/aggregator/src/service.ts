import {
  commitMetadata,
  createDecoder,
  createPipelineConsumer,
  createEncoder,
  createKafka,
  createRegistryClient,
  FetchGroupedConsumer,
  loadSchema,
  OutageTracker,
  retryWhileOutage,
  valueSubject,
  type Consumer,
  type EnrichedBookingChange,
  type Logger,
  type MovieKpis,
  IDLE_FETCH_WAIT_MS,
  OffsetCommits,
} from '@cdc/core';
import { Cleanups, startOpsServer, type Health, type OpsServer } from '@cdc/observe';
import type { BatchResult } from './batch';
import type { AggregatorConfig } from './config';
import { GoldPublisher } from './gold';
import { acquireDbLock } from './lock';
import { createAggregatorMetrics, type AggregatorMetrics } from './metrics';
import { AggregatorStore } from './store';

/**
 * The live aggregator: consumes silver (read_committed), applies the batches of each fetch to
 * SQLite in one transaction together with their offsets (core's fetch-grouped consumer over the
 * aggregator's batches, batch.ts), hands the changed movies to the gold publisher, and commits to
 * Kafka afterwards (for lag monitoring only — on every assignment it seeks to the offsets stored
 * in SQLite).
 */
export interface RunningAggregator {
  readonly opsPort: number;
  readonly store: AggregatorStore;
  readonly metrics: AggregatorMetrics;
  /** Settles when the aggregator stops; rejects if it failed for good. */
  readonly done: Promise<void>;
  health(): Health;
  stop(): Promise<void>;
  /**
   * Nothing an aggregator does is left half done by stopping: a batch and its offsets commit in
   * one SQLite transaction, and gold snapshots not yet published are republished from SQLite.
   */
  unfinishedWork(): string[];
}

export interface AggregatorStartOptions {
  /** Aborted when the process is asked to stop: waits for the broker or registry at start end. */
  signal?: AbortSignal;
}

type Status = 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

/** At most this many undecodable records are logged per partition batch (all are counted). */
const LOGGED_DECODE_ERRORS_PER_BATCH = 5;

export async function startAggregator(
  config: AggregatorConfig,
  logger: Logger,
  options: AggregatorStartOptions = {},
): Promise<RunningAggregator> {
  const aggregator = new LiveAggregator(config, logger.child({ component: 'aggregator' }), options.signal);
  try {
    await aggregator.start();
  } catch (err) {
    await aggregator.cleanup();
    throw err;
  }
  return aggregator;
}

/**
 * The aggregator's start, step by step (`start`), and what it does afterwards: each committed
 * batch (`committed`), each assignment (`positions`), health and stop. Everything started is
 * undone in reverse order by `cleanup` (the lock is released last).
 */
class LiveAggregator implements RunningAggregator {
  readonly store: AggregatorStore;
  readonly metrics = createAggregatorMetrics();
  readonly done: Promise<void>;
  private readonly topic: string;
  private readonly outages: OutageTracker;
  private readonly cleanups: Cleanups;
  private status: Status = 'starting';
  private batches = 0;
  private lastBatchAt = 0;
  private assigned: number[] = [];
  private ops: OpsServer | undefined;
  private gold: GoldPublisher | undefined;
  private kafkaOffsets: OffsetCommits | undefined;
  private stopping: Promise<void> | undefined;
  private finish: () => void = () => undefined;
  private fail: (err: Error) => void = () => undefined;

  constructor(
    private readonly config: AggregatorConfig,
    private readonly log: Logger,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.topic = config.topics.silver;
    // An unreachable broker or registry is waited out, at start too (core's lifecycle/outage.ts).
    this.outages = new OutageTracker({ logger: log });
    this.cleanups = new Cleanups(log);
    this.done = new Promise<void>((resolve, reject) => {
      this.finish = resolve;
      this.fail = reject;
    });
    this.done.catch(() => void this.stop()); // observed by the caller through `done`
    const lock = acquireDbLock(config.dbPath);
    this.cleanups.push(() => lock.release());
    try {
      this.store = AggregatorStore.open(config.dbPath);
    } catch (err) {
      lock.release();
      throw err;
    }
    this.cleanups.push(() => this.store.close());
  }

  get opsPort(): number {
    return this.ops?.port ?? 0;
  }

  /** The start's steps, in order. */
  async start(): Promise<void> {
    const registry = createRegistryClient(this.config.connection);
    const kafka = createKafka(this.config.connection, this.log, { outages: this.outages });
    await this.startOpsServer();
    if (this.config.publishGold) await this.startGold(kafka, registry);
    const consumer = this.createConsumer(kafka);
    const fetches = this.consumeFetchGrouped(consumer, registry);
    await this.retry('connecting to Kafka', async () => {
      await consumer.connect();
      await consumer.subscribe({ topic: this.topic, fromBeginning: true });
    });
    await fetches.run();
    this.log.info(
      { db: this.config.dbPath, group: this.config.groupId, topic: this.topic, opsPort: this.opsPort },
      'aggregator started',
    );
  }

  /** /healthz, /metrics and the outages, on the ops port. */
  private async startOpsServer(): Promise<void> {
    const ops = await startOpsServer({
      port: this.config.opsPort,
      metrics: this.metrics.registry,
      logger: this.log,
      health: () => this.health(),
      outages: this.outages,
      portSetting: { option: '--ops-port', env: 'AGGREGATOR_OPS_PORT' },
    });
    this.ops = ops;
    this.cleanups.push(() => ops.close());
  }

  /**
   * The gold publisher: registers the schema, connects its producer, republishes what a crash
   * left unpublished, and keeps retrying a failed publish (gold.ts).
   */
  private async startGold(
    kafka: ReturnType<typeof createKafka>,
    registry: ReturnType<typeof createRegistryClient>,
  ): Promise<void> {
    const { config, store } = this;
    const schema = loadSchema('MovieKpis');
    const encoder = await this.retry('registering the gold schema', () =>
      createEncoder<MovieKpis>(registry, valueSubject(config.topics.gold), schema.text, schema.type),
    );
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    this.cleanups.push(() => producer.disconnect());
    await this.retry('connecting the gold producer', () => producer.connect());
    const publisher = new GoldPublisher(
      producer,
      encoder,
      config.topics.gold,
      store.writer,
      this.metrics,
      this.log,
    );
    this.gold = publisher;
    await publisher.flush(); // snapshots a crash left unpublished
    const retryTimer = setInterval(() => {
      if (publisher.hasBacklog) void publisher.flush();
      // The published mark rides on the next batch's transaction; with no batch, it is stored here.
      else store.writer.flushPublishedMark();
    }, config.publishRetryMs);
    retryTimer.unref();
    this.cleanups.push(() => publisher.flush());
    this.cleanups.push(() => clearInterval(retryTimer));
  }

  /** The silver consumer, and its Kafka commits (monitoring only). */
  private createConsumer(kafka: ReturnType<typeof createKafka>): Consumer {
    const { config, log, topic } = this;
    const consumer = createPipelineConsumer(kafka, {
      logger: log,
      outages: this.outages,
      // Static membership: a restarted aggregator takes its partitions back at once.
      groupInstanceId: config.instanceId,
      // Kept until the session times out on stop (unless configured): a restart resumes without a rebalance.
      leaveGroupOnStop: config.leaveGroupOnStop,
      stopping: () => this.stopping !== undefined || this.signal?.aborted === true,
      onFatal: (err) => {
        this.status = 'failed';
        this.fail(err);
      },
      groupId: config.groupId,
      sessionTimeout: config.sessionTimeoutMs,
      heartbeatInterval: config.heartbeatIntervalMs,
      maxBytes: config.fetchMaxBytes,
      maxBytesPerPartition: config.fetchMaxBytesPerPartition,
      readUncommitted: false,
      // Not kafkajs's 5 s: idle, a heartbeat went out only every 5 s of a 10 s session, and a
      // stopping aggregator waited up to 5 s for its empty fetch.
      maxWaitTimeInMs: IDLE_FETCH_WAIT_MS,
    });
    // Monitoring only (SQLite holds the offsets the aggregator resumes from): committed in the
    // background, so no batch waits for the round trip (core's OffsetCommits).
    this.kafkaOffsets = new OffsetCommits({
      intervalMs: config.commitIntervalMs,
      send: (offsets) => {
        const metadata = commitMetadata(); // the commit time, for `cdc status`
        return consumer.commitOffsets(
          [...offsets].map(([partition, offset]) => ({ topic, partition, offset: String(offset), metadata })),
        );
      },
      onError: (err) => log.debug({ err }, 'Kafka offset commit failed (monitoring only)'),
    });
    return consumer;
  }

  /**
   * The consumer loop: the partitions' batches of one fetch decoded into one batch of the
   * aggregator's (batch.ts), committed to SQLite in one transaction (core's kafka/fetch-batches.ts).
   */
  private consumeFetchGrouped(
    consumer: Consumer,
    registry: ReturnType<typeof createRegistryClient>,
  ): FetchGroupedConsumer<EnrichedBookingChange, BatchResult> {
    const { log, store, topic } = this;
    const fetches = new FetchGroupedConsumer(consumer, {
      topic,
      decoder: createDecoder<EnrichedBookingChange>(registry, loadSchema('EnrichedBookingChange').type),
      open: () => store.openBatch(topic),
      onCommitted: (result, highWatermarks) => this.committed(result, highWatermarks),
      positions: (partitions) => this.positions(partitions),
      // Offsets of transaction markers: at rest the stored offsets equal the end of silver.
      onControlRecords: (partition, nextOffset) => store.writer.advanceOffset(topic, partition, nextOffset),
      onUndecodable: (err, partition, offset, nth) => {
        if (nth >= LOGGED_DECODE_ERRORS_PER_BATCH) return;
        log.warn(
          { partition, offset, code: err.code, err: err.message },
          'undecodable silver record skipped',
        );
      },
      onCommitFailed: (err) => log.warn({ err }, 'batch commit failed; reading it again'),
    });
    // Cleanups run in reverse: the group a stop cut short is given up once the consumer has
    // disconnected (it is not committed; its records are read again at the next start).
    this.cleanups.push(() => fetches.reset());
    this.cleanups.push(() => consumer.disconnect());
    return fetches;
  }

  /** After each batch's SQLite commit: metrics, gold, Kafka commits. */
  private committed(result: BatchResult, highWatermarks: ReadonlyMap<number, number>): void {
    this.batches += 1;
    this.lastBatchAt = Date.now();
    this.metrics.batch(result, this.topic, highWatermarks, this.lastBatchAt);
    // Not awaited: the publisher sends one request at a time and coalesces what arrives
    // meanwhile (gold.ts), so the next batch is not held up by gold's round trip.
    if (this.gold) void this.gold.publish(result.movies);
    const kafkaOffsets = this.kafkaOffsets as OffsetCommits;
    for (const { partition, nextOffset } of result.partitions) kafkaOffsets.note(partition, nextOffset);
    // At most every commitIntervalMs; the last offsets before a quiet spell follow (trailing).
    void kafkaOffsets.commit(false);
  }

  /** A new generation's partitions: the consumer seeks to the offsets stored in SQLite. */
  private positions(partitions: number[]): Map<number, number> {
    this.assigned = partitions;
    const stored = this.store.storedOffsets(this.topic);
    this.status = 'running';
    this.log.info(
      { partitions, offsets: Object.fromEntries(partitions.map((p) => [p, stored.get(p) ?? 0])) },
      'partitions assigned; seeking to the offsets stored in SQLite',
    );
    return stored;
  }

  private retry<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return retryWhileOutage(fn, { outages: this.outages, what, signal: this.signal });
  }

  health(): Health {
    const versions = this.store.snapshotVersions;
    return {
      ok: this.status === 'starting' || this.status === 'running',
      status: this.status,
      db: this.config.dbPath,
      group: this.config.groupId,
      topic: this.topic,
      partitions: this.assigned,
      batches: this.batches,
      lastBatchAt: this.lastBatchAt || null,
      snapshotVersion: versions.assigned,
      publishedSnapshotVersion: versions.published,
      goldBacklog: this.gold?.hasBacklog ?? false,
    };
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.status !== 'failed') this.status = 'stopping';
      if (this.kafkaOffsets) {
        await this.kafkaOffsets.commit(true);
        this.kafkaOffsets.stopTrailing();
      }
      await this.cleanup();
      if (this.status !== 'failed') this.status = 'stopped';
      this.log.info('aggregator stopped');
      this.finish();
    })();
    return this.stopping;
  }

  unfinishedWork(): string[] {
    return [];
  }

  /** Undoes what was started, in reverse order (a failure is logged, the rest still runs). */
  cleanup(): Promise<void> {
    return this.cleanups.run();
  }
}
