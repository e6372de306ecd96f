import type { Consumer, Producer } from 'kafkajs';
import {
  commitMetadata,
  createDecoder,
  createPipelineConsumer,
  createEncoder,
  createKafka,
  createRegistryClient,
  errorMessage,
  loadSchema,
  OutageTracker,
  retryWhileOutage,
  valueSubject,
  type EnrichedBookingChange,
  type Logger,
  type MovieKpis,
  IDLE_FETCH_WAIT_MS,
  OffsetCommits,
} from '@cdc/core';
import { startOpsServer, type Health, type OpsServer } from '@cdc/observe';
import type { AggregatorConfig } from './config';
import { GoldPublisher } from './gold';
import { acquireDbLock, type DbLock } from './lock';
import { createAggregatorMetrics, type AggregatorMetrics } from './metrics';
import { createEachBatch } from './each-batch';
import { FetchBatches } from './fetch-batches';
import { AggregatorStore } from './store';

/**
 * The live aggregator: consumes silver (read_committed), applies each fetched batch to SQLite in
 * one transaction together with its offsets (through the read model's writer), hands the changed movies to the gold publisher, and commits
 * to Kafka afterwards (for lag monitoring only — on every assignment it seeks to the offsets
 * stored in SQLite).
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

export async function startAggregator(
  config: AggregatorConfig,
  logger: Logger,
  options: AggregatorStartOptions = {},
): Promise<RunningAggregator> {
  const log = logger.child({ component: 'aggregator' });
  const lock: DbLock = acquireDbLock(config.dbPath);
  const cleanups: (() => Promise<void> | void)[] = [() => lock.release()];
  const cleanup = async () => {
    for (const fn of cleanups.splice(0).reverse()) {
      try {
        await fn();
      } catch (err) {
        log.warn({ err: errorMessage(err) }, 'error while shutting down');
      }
    }
  };
  try {
    const store = AggregatorStore.open(config.dbPath);
    cleanups.push(() => store.close());
    return await start(config, log, store, cleanups, cleanup, options.signal);
  } catch (err) {
    await cleanup();
    throw err;
  }
}

async function start(
  config: AggregatorConfig,
  log: Logger,
  store: AggregatorStore,
  cleanups: (() => Promise<void> | void)[],
  cleanup: () => Promise<void>,
  signal: AbortSignal | undefined,
): Promise<RunningAggregator> {
  const topic = config.topics.silver;
  const metrics = createAggregatorMetrics();
  const registry = createRegistryClient(config.connection.registryUrl);
  const decoder = createDecoder<EnrichedBookingChange>(registry, loadSchema('EnrichedBookingChange').type);
  // An unreachable broker or registry is waited out, at start too (core's lifecycle/outage.ts).
  const outages = new OutageTracker({ logger: log });
  const retry = <T>(what: string, fn: () => Promise<T>): Promise<T> =>
    retryWhileOutage(fn, { outages, what, signal });
  const kafka = createKafka(config.connection, log, { outages });

  let status: Status = 'starting';
  let batches = 0;
  let lastBatchAt = 0;
  let assigned: number[] = [];
  let fail: (err: Error) => void = () => undefined;
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  done.catch(() => undefined); // observed by the caller through `done`

  const ops: OpsServer = await startOpsServer({
    port: config.opsPort,
    metrics: metrics.registry,
    logger: log,
    health: () => health(),
    outages,
    portSetting: { option: '--ops-port', env: 'AGGREGATOR_OPS_PORT' },
  });
  cleanups.push(() => ops.close());

  let gold: GoldPublisher | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  if (config.publishGold) {
    const schema = loadSchema('MovieKpis');
    const encoder = await retry('registering the gold schema', () =>
      createEncoder<MovieKpis>(registry, valueSubject(config.topics.gold), schema.text, schema.type),
    );
    const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    cleanups.push(() => producer.disconnect());
    await retry('connecting the gold producer', () => producer.connect());
    const publisher = new GoldPublisher(producer, encoder, config.topics.gold, store.writer, metrics, log);
    gold = publisher;
    await publisher.flush(); // snapshots a crash left unpublished
    retryTimer = setInterval(() => {
      if (publisher.hasBacklog) void publisher.flush();
      // The published mark rides on the next batch's transaction; with no batch, it is stored here.
      else store.writer.flushPublishedMark();
    }, config.publishRetryMs);
    retryTimer.unref();
    cleanups.push(() => publisher.flush());
    cleanups.push(() => clearInterval(retryTimer));
  }

  let stopping: Promise<void> | undefined;
  const consumer: Consumer = createPipelineConsumer(kafka, {
    logger: log,
    outages,
    // Static membership: a restarted aggregator takes its partitions back at once.
    groupInstanceId: config.instanceId,
    stopping: () => stopping !== undefined || signal?.aborted === true,
    onFatal: (err) => {
      status = 'failed';
      fail(err);
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
  const kafkaOffsets = new OffsetCommits({
    intervalMs: config.commitIntervalMs,
    send: (offsets) => {
      const metadata = commitMetadata(); // the commit time, for `cdc status`
      return consumer.commitOffsets(
        [...offsets].map(([partition, offset]) => ({ topic, partition, offset: String(offset), metadata })),
      );
    },
    onError: (err) => log.debug({ err: errorMessage(err) }, 'Kafka offset commit failed (monitoring only)'),
  });

  // The partitions' batches of one fetch commit in one SQLite transaction (fetch-batches.ts).
  const fetchBatches = new FetchBatches({
    store,
    topic,
    onCommitted: (result, highWatermarks) => {
      batches += 1;
      lastBatchAt = Date.now();
      metrics.batch(result, highWatermarks, lastBatchAt);
      // Not awaited: the publisher sends one request at a time and coalesces what arrives
      // meanwhile (gold.ts), so the next batch is not held up by gold's round trip.
      if (gold) void gold.publish(result.movies);
      for (const { partition, nextOffset } of result.partitions) kafkaOffsets.note(partition, nextOffset);
      // At most every commitIntervalMs; the last offsets before a quiet spell follow (trailing).
      void kafkaOffsets.commit(false);
    },
  });
  // Runs after the consumer has disconnected (cleanups run in reverse): a group a stop cut short
  // is not committed; its records are read again at the next start.
  cleanups.push(() => fetchBatches.reset());
  cleanups.push(() => consumer.disconnect());

  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    // Synchronous: the seeks are in place before the first fetch of this generation.
    fetchBatches.reset();
    assigned = e.payload.memberAssignment[topic] ?? [];
    const stored = store.storedOffsets(topic);
    for (const partition of assigned) {
      consumer.seek({ topic, partition, offset: String(stored.get(partition) ?? 0) });
    }
    status = 'running';
    log.info(
      { partitions: assigned, offsets: Object.fromEntries(assigned.map((p) => [p, stored.get(p) ?? 0])) },
      'partitions assigned; seeking to the offsets stored in SQLite',
    );
  });
  consumer.on(consumer.events.FETCH, (e) => fetchBatches.fetched(e.payload.numberOfBatches));
  consumer.on(consumer.events.FETCH_START, () => {
    // Batches still grouped when the next fetch starts (announced ones never came): committed now,
    // before kafkajs picks the offsets to fetch.
    try {
      fetchBatches.fetchStarting();
    } catch (err) {
      // Abandoned: kafkajs fetches those records again from the last committed offsets.
      log.warn({ err: errorMessage(err) }, 'batch commit failed; reading it again');
    }
  });
  consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
    // A fetch holding only control records or aborted messages never reaches eachBatch.
    if (e.payload.batchSize === 0 && e.payload.topic === topic) {
      store.writer.advanceOffset(topic, e.payload.partition, Number(e.payload.lastOffset) + 1);
    }
  });

  // Decodes each partition's records into the fetch's batch (each-batch.ts).
  const eachBatch = createEachBatch(decoder, fetchBatches, log);

  await retry('connecting to Kafka', async () => {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
  });
  await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch });
  log.info({ db: config.dbPath, group: config.groupId, topic, opsPort: ops.port }, 'aggregator started');

  function health(): Health {
    const versions = store.snapshotVersions;
    return {
      ok: status === 'starting' || status === 'running',
      status,
      db: config.dbPath,
      group: config.groupId,
      topic,
      partitions: assigned,
      batches,
      lastBatchAt: lastBatchAt || null,
      snapshotVersion: versions.assigned,
      publishedSnapshotVersion: versions.published,
      goldBacklog: gold?.hasBacklog ?? false,
    };
  }

  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (status !== 'failed') status = 'stopping';
      await kafkaOffsets.commit(true);
      kafkaOffsets.stopTrailing();
      await cleanup();
      if (status !== 'failed') status = 'stopped';
      log.info('aggregator stopped');
      finish();
    })();
    return stopping;
  };
  done.catch(() => void stop());

  return {
    get opsPort() {
      return ops.port;
    },
    store,
    metrics,
    done,
    health,
    stop,
    unfinishedWork: () => [],
  };
}
