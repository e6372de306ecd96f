import {
  CdcError,
  createDecoder,
  loadSchema,
  NO_MOVIE_KEY,
  sleep,
  type Logger,
  type MovieKpis,
  type RegistryClient,
  IDLE_FETCH_WAIT_MS,
  OffsetCommits,
  type Consumer,
  type Kafka,
} from '@cdc/core';

/**
 * Reads gold (MovieKpis snapshots) with the service's consumer group: from the beginning the
 * first time (the compacted topic holds every movie's latest counters), then from the group's
 * committed offsets. Re-reading a snapshot after a restart is harmless: the engine ignores one
 * whose snapshot_version it has seen, and counters are cumulative, so a snapshot skipped or
 * re-read changes where a count is attributed in time, never the total. Undecodable records are
 * counted and skipped; a registry that does not answer is waited for (never skipped). Offsets are
 * committed in the background at most every COMMIT_INTERVAL_MS (the last ones before a quiet
 * spell too, and at stop), not after every batch as kafkajs's auto-commit does.
 */
export interface GoldReader {
  /**
   * Takes no more snapshots, at once and without the broker: a record not handed over is not
   * marked read either, so it comes again after a restart (the state saved next holds exactly
   * what was handed over).
   */
  halt(): void;
  stop(): Promise<void>;
}

const COMMIT_INTERVAL_MS = 1000;

export async function startGoldReader(o: {
  kafka: Kafka;
  registry: RegistryClient;
  topic: string;
  groupId: string;
  logger: Logger;
  onSnapshot(key: string, value: MovieKpis): void;
  onUndecodable(): void;
}): Promise<GoldReader> {
  const decoder = createDecoder<MovieKpis>(o.registry, loadSchema('MovieKpis').type);
  let stopping = false;
  const decode = async (bytes: Buffer): Promise<MovieKpis> => {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return decoder.decodeKnown(bytes) ?? (await decoder.decode(bytes));
      } catch (err) {
        if (stopping || !(err instanceof CdcError) || !err.retriable) throw err;
        if (attempt === 0) o.logger.warn({ err }, 'cannot decode gold yet; retrying');
        await sleep(Math.min(5000, 200 * 2 ** Math.min(attempt, 5)));
      }
    }
  };
  const consumer: Consumer = o.kafka.consumer({
    groupId: o.groupId,
    maxWaitTimeInMs: IDLE_FETCH_WAIT_MS,
    sessionTimeout: 10_000,
    heartbeatInterval: 1000,
  });
  const offsets = new OffsetCommits({
    intervalMs: COMMIT_INTERVAL_MS,
    send: (next) =>
      consumer.commitOffsets(
        [...next].map(([partition, offset]) => ({ topic: o.topic, partition, offset: String(offset) })),
      ),
    onError: (err) =>
      o.logger.debug({ err }, 'gold offset commit failed; the next one carries newer offsets'),
  });
  let logged = 0;
  await consumer.connect();
  await consumer.subscribe({ topic: o.topic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatch: async (payload) => {
      const { batch } = payload;
      for (const m of batch.messages) {
        if (stopping || !payload.isRunning() || payload.isStale()) return;
        if (m.value !== null) {
          try {
            const value = await decode(m.value);
            if (stopping) return;
            o.onSnapshot(m.key?.toString() ?? value.movie_id ?? NO_MOVIE_KEY, value);
          } catch (err) {
            if (stopping) return;
            o.onUndecodable();
            if (logged++ < 20) {
              o.logger.warn(
                { partition: batch.partition, offset: m.offset, err },
                'skipping an undecodable gold record',
              );
            }
          }
        }
        payload.resolveOffset(m.offset);
        offsets.note(batch.partition, Number(m.offset) + 1);
      }
      void offsets.commit(false);
      await payload.heartbeat();
    },
  });
  return {
    halt() {
      stopping = true;
    },
    async stop() {
      stopping = true;
      await offsets.commit(true);
      offsets.stopTrailing();
      await consumer.disconnect();
    },
  };
}
