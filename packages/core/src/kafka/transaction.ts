import type { Kafka, Producer, TopicMessages, TopicOffsets, Transaction } from 'kafkajs';
import { CdcError, errorMessage } from '../errors';
import { commitMetadata } from './commit-metadata';
import { kafkaErrorType } from './errors';
import { KeyPartitioner } from './partitioner';

/**
 * One Kafka transaction through kafkajs, and the transactional producer it runs on: begin, send
 * the records, send the consumed offsets, commit. A failure comes back as a `StageError` naming
 * the stage it failed at, which is what recovery depends on (`abortFailed`: abort, or replace the
 * producer; a failed commit leaves the outcome unknown). No queueing, retries or planning here:
 * those are the caller's (the enricher's committer).
 */
export type TxStage = 'begin' | 'produce' | 'offsets' | 'commit';

/** A transaction that failed at one stage (the caller recovers from it). */
export class StageError extends CdcError {
  constructor(
    readonly stage: TxStage,
    readonly error: unknown,
    readonly txn: Transaction | null,
  ) {
    super('UNAVAILABLE', `${stage}: ${errorMessage(error)}`, { retriable: true, cause: error });
  }
}

/**
 * What one transaction writes. Both are built inside their stage, so a failure to build them
 * fails that stage.
 */
export interface TransactionContent {
  /** The consumer group whose offsets the transaction commits. */
  groupId: string;
  /** The produce requests, in order: one `sendBatch` each. */
  sends(): TopicMessages[][];
  /** The next offset to read per consumed partition. */
  offsets(): TopicOffsets[];
}

/** Runs one transaction on `producer`; returns how long it took (seconds). */
export async function runTransaction(
  producer: Producer | null,
  content: TransactionContent,
): Promise<number> {
  if (!producer) throw new StageError('begin', new CdcError('INTERNAL', 'no producer'), null);
  const started = process.hrtime.bigint();
  let txn: Transaction;
  try {
    txn = await producer.transaction();
  } catch (err) {
    throw new StageError('begin', err, null);
  }
  try {
    for (const topicMessages of content.sends()) {
      await txn.sendBatch({ topicMessages, acks: -1 });
    }
  } catch (err) {
    throw new StageError('produce', err, txn);
  }
  try {
    // The commit time rides in the offsets' metadata (`cdc status` shows it).
    const metadata = commitMetadata();
    const topics = content.offsets().map((t) => ({
      topic: t.topic,
      partitions: t.partitions.map((p) => ({ ...p, metadata })),
    }));
    await txn.sendOffsets({ consumerGroupId: content.groupId, topics });
  } catch (err) {
    throw new StageError('offsets', err, txn);
  }
  try {
    await txn.commit();
  } catch (err) {
    throw new StageError('commit', err, txn);
  }
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/**
 * After a failed transaction: aborts it when it failed while sending (records or offsets) and is
 * still open. Returns true when the producer is usable again: only an abort after the offsets
 * stage leaves it so. After a failed commit() kafkajs's producer is unusable, and after a failed
 * produce request its idempotence sequence numbers may no longer match the broker's: the caller
 * replaces the producer then (a new one gets a new epoch and starts them again), and when the
 * abort itself fails (reported through `onAbortFailed`).
 */
export async function abortFailed(e: StageError, onAbortFailed: (err: unknown) => void): Promise<boolean> {
  let aborted = false;
  if ((e.stage === 'produce' || e.stage === 'offsets') && e.txn?.isActive()) {
    try {
      await e.txn.abort();
      aborted = true;
    } catch (err) {
      onAbortFailed(err);
    }
  }
  return aborted && e.stage === 'offsets';
}

/**
 * A connected transactional producer that has fenced any previous incarnation of its id.
 *
 * Retries are bounded (the client's retry settings), so kafkajs warns "Limiting retries for the
 * idempotent producer may invalidate EoS guarantees": deliberate, since a send that gives up
 * aborts its transaction and the producer is replaced, instead of a transaction hanging forever.
 */
export async function newTransactionalProducer(
  kafka: Kafka,
  o: { transactionalId: string; transactionTimeoutMs: number },
): Promise<Producer> {
  const producer = kafka.producer({
    transactionalId: o.transactionalId,
    idempotent: true,
    maxInFlightRequests: 1,
    transactionTimeout: o.transactionTimeoutMs,
    allowAutoTopicCreation: false,
    createPartitioner: KeyPartitioner,
  });
  try {
    await producer.connect();
    // InitProducerId happens on the first transaction: it bumps the epoch (fencing an older
    // producer with this id) and aborts, or completes, whatever transaction it left open.
    const fence = await producer.transaction();
    await fence.abort();
    return producer;
  } catch (err) {
    await producer.disconnect().catch(() => undefined);
    throw err;
  }
}

/**
 * Fences another process's transactional id: InitProducerId with that id bumps its epoch, so the
 * process it belonged to can no longer commit, and aborts the transaction it left open (or waits
 * for its commit). The producer used for it is closed again.
 */
export async function fenceTransactionalId(
  kafka: Kafka,
  o: { transactionalId: string; transactionTimeoutMs: number },
): Promise<void> {
  // A transactional producer of that id fences on connecting; nothing is sent with it.
  const producer = await newTransactionalProducer(kafka, o);
  await producer.disconnect().catch(() => undefined);
}

/** Log fields of a failed attempt. */
export function failureFields(e: StageError, attempts: number, units: number): Record<string, unknown> {
  return { stage: e.stage, attempts, units, err: e.error, type: kafkaErrorType(e.error) };
}
