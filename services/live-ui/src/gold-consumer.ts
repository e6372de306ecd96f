import { randomBytes } from 'node:crypto';
import {
  CdcError,
  UnavailableError,
  createDecoder,
  createPipelineConsumer,
  errorMessage,
  loadSchema,
  NO_MOVIE_KEY,
  type Logger,
  type MovieKpis,
  type OutageTracker,
  type RegistryClient,
  sleep,
  IDLE_FETCH_WAIT_MS,
  type Kafka,
} from '@cdc/core';

/**
 * Reads the compacted gold topic from the beginning with a throwaway consumer group (no offsets
 * committed: every start rebuilds the state from the topic), decoding MovieKpis snapshots.
 * Undecodable records are counted and skipped: eachBatch never throws. `ready` resolves once the
 * end of every partition as of start has been read.
 */
export interface GoldConsumer {
  readonly groupId: string;
  readonly ready: Promise<void>;
  isReady(): boolean;
  /** Per partition: records not read yet (high watermark - position), as of the last fetch. */
  lag(): Map<number, number>;
  stop(): Promise<void>;
}

export interface GoldConsumerOptions {
  kafka: Kafka;
  registry: RegistryClient;
  topic: string;
  logger: Logger;
  onRecord(key: string, value: MovieKpis | null, receivedAtMs: number): void;
  onDecodeError(): void;
  /** Broker and registry outages: reported here (one warning per outage). */
  outages?: OutageTracker;
}

export async function startGoldConsumer(o: GoldConsumerOptions): Promise<GoldConsumer> {
  const decoder = createDecoder<MovieKpis>(o.registry, loadSchema('MovieKpis').type);
  const admin = o.kafka.admin();
  await admin.connect();
  let targets: { partition: number; high: number; low: number }[];
  try {
    targets = (await admin.fetchTopicOffsets(o.topic)).map((p) => ({
      partition: p.partition,
      high: Number(p.high),
      low: Number(p.low),
    }));
  } catch (err) {
    throw new UnavailableError(
      'broker',
      `cannot read the gold topic ${o.topic}: ${errorMessage(err)} (create the topics with \`cdc topics create\`)`,
      err,
    );
  } finally {
    await admin.disconnect();
  }

  const positions = new Map<number, number>();
  const highs = new Map<number, number>();
  for (const t of targets) {
    positions.set(t.partition, t.low);
    highs.set(t.partition, t.high);
  }
  const pending = new Set(targets.filter((t) => t.high > t.low).map((t) => t.partition));
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  let isReady = false;
  const checkReady = (): void => {
    if (!isReady && pending.size === 0) {
      isReady = true;
      markReady();
    }
  };

  const groupId = `live-ui-${randomBytes(6).toString('hex')}`;
  let stopping = false;
  const consumer = createPipelineConsumer(o.kafka, {
    logger: o.logger,
    outages: o.outages,
    stopping: () => stopping,
    groupId,
    maxWaitTimeInMs: IDLE_FETCH_WAIT_MS,
    sessionTimeout: 30_000,
    heartbeatInterval: 3000,
  });
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    const next = Number(payload.lastOffset) + 1;
    positions.set(payload.partition, next);
    highs.set(payload.partition, Number(payload.highWatermark));
    const target = targets.find((t) => t.partition === payload.partition);
    if (target && next >= target.high && pending.delete(payload.partition)) checkReady();
  });
  let decodeErrorsLogged = 0;
  /** Retriable failures (the registry is down) are retried: skipping would lose a snapshot. */
  const decodeRetrying = async (bytes: Buffer): Promise<MovieKpis> => {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await decoder.decode(bytes);
      } catch (err) {
        if (stopping || !(err instanceof CdcError) || !err.retriable) throw err;
        if (!o.outages?.report(err, 'decoding gold') && attempt === 0)
          o.logger.warn({ err }, 'cannot decode gold yet; retrying');
        await sleep(Math.min(5000, 200 * 2 ** Math.min(attempt, 5)));
      }
    }
  };
  try {
    await consumer.connect();
    await consumer.subscribe({ topic: o.topic, fromBeginning: true });
  } catch (err) {
    stopping = true;
    await consumer.disconnect().catch(() => undefined);
    throw err;
  }
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      const receivedAtMs = Date.now();
      for (const message of batch.messages) {
        let value: MovieKpis | null = null;
        try {
          if (message.value !== null) value = await decodeRetrying(message.value);
        } catch (err) {
          if (stopping) return;
          o.onDecodeError();
          if (decodeErrorsLogged < 20) {
            decodeErrorsLogged += 1;
            o.logger.warn(
              { partition: batch.partition, offset: message.offset, err },
              'skipping an undecodable gold record',
            );
          }
          continue;
        }
        const key = message.key?.toString() ?? (value ? (value.movie_id ?? NO_MOVIE_KEY) : null);
        if (key !== null) o.onRecord(key, value, receivedAtMs);
      }
    },
  });
  checkReady();

  return {
    groupId,
    ready,
    isReady: () => isReady,
    lag() {
      const out = new Map<number, number>();
      for (const [p, high] of highs) out.set(p, Math.max(0, high - (positions.get(p) ?? 0)));
      return out;
    },
    async stop() {
      stopping = true;
      await consumer.disconnect();
      const a = o.kafka.admin();
      await a
        .connect()
        .then(() => a.deleteGroups([groupId]))
        .catch(() => undefined)
        .finally(() => a.disconnect());
    },
  };
}
