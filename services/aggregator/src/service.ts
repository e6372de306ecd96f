import type { Consumer, EachBatchPayload, Producer } from 'kafkajs';
import {
  createDecoder,
  createEncoder,
  createKafka,
  createRegistryClient,
  DecodeError,
  errorMessage,
  loadSchema,
  startOpsServer,
  valueSubject,
  type EnrichedBookingChange,
  type Health,
  type Logger,
  type MovieKpis,
  type OpsServer,
} from '@cdc/core';
import type { AggregatorConfig } from './config';
import { GoldPublisher } from './gold';
import { acquireDbLock, type DbLock } from './lock';
import { createAggregatorMetrics, type AggregatorMetrics } from './metrics';
import type { BatchResult } from './batch';
import { AggregatorStore } from './store';

/**
 * The live aggregator: consumes silver (read_committed), applies each fetched batch to SQLite in
 * one transaction together with its offsets (through the read model's writer), publishes the changed movies to gold, and commits
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
}

type Status = 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';
const LOGGED_DECODE_ERRORS_PER_BATCH = 5;

export async function startAggregator(config: AggregatorConfig, logger: Logger): Promise<RunningAggregator> {
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
    return await start(config, log, store, cleanups, cleanup);
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
): Promise<RunningAggregator> {
  const topic = config.topics.silver;
  const metrics = createAggregatorMetrics();
  const registry = createRegistryClient(config.connection.registryUrl);
  const decoder = createDecoder<EnrichedBookingChange>(registry, loadSchema('EnrichedBookingChange').type);
  const kafka = createKafka(config.connection, log);

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
  });
  cleanups.push(() => ops.close());

  let gold: GoldPublisher | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  if (config.publishGold) {
    const schema = loadSchema('MovieKpis');
    const encoder = await createEncoder<MovieKpis>(
      registry,
      valueSubject(config.topics.gold),
      schema.text,
      schema.type,
    );
    const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    cleanups.push(() => producer.disconnect());
    const publisher = new GoldPublisher(producer, encoder, config.topics.gold, store.writer, metrics, log);
    gold = publisher;
    await publisher.flush(); // snapshots a crash left unpublished
    retryTimer = setInterval(() => {
      if (publisher.hasBacklog) void publisher.flush();
    }, config.publishRetryMs);
    retryTimer.unref();
    cleanups.push(() => publisher.flush());
    cleanups.push(() => clearInterval(retryTimer));
  }

  const consumer: Consumer = kafka.consumer({
    groupId: config.groupId,
    sessionTimeout: config.sessionTimeoutMs,
    heartbeatInterval: config.heartbeatIntervalMs,
    maxBytes: config.fetchMaxBytes,
    maxBytesPerPartition: config.fetchMaxBytesPerPartition,
    readUncommitted: false,
  });
  cleanups.push(() => consumer.disconnect());

  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    // Synchronous: the seeks are in place before the first fetch of this generation.
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
  consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
    // A fetch holding only control records or aborted messages never reaches eachBatch.
    if (e.payload.batchSize === 0 && e.payload.topic === topic) {
      store.writer.advanceOffset(topic, e.payload.partition, Number(e.payload.lastOffset) + 1);
    }
  });
  consumer.on(consumer.events.CRASH, (e) => {
    log.error({ err: errorMessage(e.payload.error), restart: e.payload.restart }, 'consumer crashed');
    if (!e.payload.restart) {
      status = 'failed';
      fail(e.payload.error);
    }
  });

  const pendingCommits = new Map<number, number>();
  let lastCommitAt = 0;
  async function commitToKafka(force: boolean): Promise<void> {
    if (pendingCommits.size === 0 || (!force && Date.now() - lastCommitAt < config.commitIntervalMs)) return;
    const partitions = [...pendingCommits].map(([partition, offset]) => ({
      partition,
      offset: String(offset),
    }));
    pendingCommits.clear();
    lastCommitAt = Date.now();
    try {
      await consumer.commitOffsets(partitions.map((p) => ({ topic, ...p })));
    } catch (err) {
      log.debug({ err: errorMessage(err) }, 'Kafka offset commit failed (monitoring only)');
    }
  }

  async function eachBatch(payload: EachBatchPayload): Promise<void> {
    // kafkajs builds these as closures over the batch, not as methods: destructuring them is safe.
    // eslint-disable-next-line @typescript-eslint/unbound-method
    const { batch, resolveOffset, heartbeat, isRunning, isStale } = payload;
    if (!isRunning() || isStale()) return;
    const open = store.openBatch(topic, batch.partition);
    let result: BatchResult;
    try {
      let logged = 0;
      for (const m of batch.messages) {
        let change: EnrichedBookingChange | null = null;
        try {
          change = decoder.decodeKnown(m.value) ?? (await decoder.decode(m.value));
        } catch (err) {
          if (!(err instanceof DecodeError)) throw err; // registry unreachable: retried, never skipped
          if (logged++ < LOGGED_DECODE_ERRORS_PER_BATCH) {
            log.warn(
              { partition: batch.partition, offset: m.offset, code: err.code, err: err.message },
              'undecodable silver record skipped',
            );
          }
        }
        open.add(Number(m.offset), change);
      }
      result = store.commit(open, Number(batch.lastOffset()) + 1);
    } catch (err) {
      store.abandon(open);
      throw err;
    }
    batches += 1;
    lastBatchAt = Date.now();
    metrics.batch(result, batch.partition, Number(batch.highWatermark), lastBatchAt);
    resolveOffset(batch.lastOffset());
    if (gold) await gold.publish(result.movies);
    pendingCommits.set(batch.partition, result.nextOffset);
    await commitToKafka(result.nextOffset >= Number(batch.highWatermark));
    await heartbeat();
  }

  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
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

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (status !== 'failed') status = 'stopping';
      await commitToKafka(true);
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
  };
}
