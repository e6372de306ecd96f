import type avro from 'avsc';
import {
  CdcError,
  UnavailableError,
  createEncoder,
  createKafka,
  createLogger,
  createRegistryClient,
  ensureTopics,
  errorMessage,
  isRetriable,
  loadSchema,
  topicNames,
  valueSubject,
  type BookingChange,
  type ConnectionConfig,
  type LogLevel,
  type OutageTracker,
  type PartitionMetadata,
} from '@cdc/core';
import { race, sleep } from './timing';

/** Partitions of the contract's topics when the producer has to create them. */
export const DEFAULT_PARTITIONS = 3;

export interface Bronze {
  topic: string;
  schemaId: number;
  type: avro.Type;
  partitions: PartitionMetadata[];
  /** 1 + the number of records the topic ever held: where ids and seqs continue. */
  nextSeq: number;
}

const hint = '(is the stack running? try `cdc stack up`)';

/**
 * Gets the bronze topic ready within `timeoutMs`: the schema registered (or found) in the
 * registry, the contract's topics created if missing, the partitions and the record count read.
 * An unreachable registry or broker is a retriable CdcError naming the address.
 */
export async function prepareBronze(
  connection: ConnectionConfig,
  logLevel: LogLevel,
  timeoutMs: number,
  outages?: OutageTracker,
): Promise<Bronze> {
  const topic = topicNames(connection.topicPrefix).bronze;
  const { text, type } = loadSchema('BookingChange');
  const registry = createRegistryClient(connection, { timeoutMs: Math.min(5000, timeoutMs) });
  const encoder = await createEncoder<BookingChange>(registry, valueSubject(topic), text, type);

  const kafka = createKafka(connection, createLogger('producer', logLevel, connection.logFormat), {
    connectionTimeoutMs: 3000,
    retries: timeoutMs >= 12_000 ? 2 : 1,
    outages,
  });
  const admin = kafka.admin();
  const unavailable = (why: string, cause?: unknown) =>
    new UnavailableError(
      'broker',
      `cannot use Kafka at ${connection.brokers.join(',')}: ${why} ${hint}`,
      cause,
    );
  const work = (async () => {
    await admin.connect();
    await ensureTopics(admin, topicNames(connection.topicPrefix), DEFAULT_PARTITIONS);
    // Right after a topic is created its partitions may have no leader yet: retry that.
    for (let attempt = 1; ; attempt++) {
      try {
        const [offsets, meta] = await Promise.all([
          admin.fetchTopicOffsets(topic),
          admin.fetchTopicMetadata({ topics: [topic] }),
        ]);
        // Every booking and every change ever produced has its own record, so numbering from
        // the number of records the topic ever held keeps ids and seqs unique across runs.
        const written = offsets.reduce((sum, p) => sum + Number(p.high), 0);
        return { partitions: meta.topics[0]?.partitions ?? [], nextSeq: written + 1 };
      } catch (err) {
        if (!isRetriable(err) || attempt >= 10) throw err;
        await sleep(100 * attempt);
      }
    }
  })();
  try {
    const r = await race(work, timeoutMs);
    if (r === 'timeout' || r === 'aborted') throw unavailable(`no answer within ${timeoutMs / 1000} s`);
    return { topic, schemaId: encoder.schemaId, type, ...r };
  } catch (err) {
    throw err instanceof CdcError ? err : unavailable(errorMessage(err), err);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
