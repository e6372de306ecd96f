import type { Kafka, Producer, Transaction } from 'kafkajs';
import { CdcError, KeyPartitioner, commitMetadata, errorMessage } from '@cdc/core';
import { planOffsets, planSends, type TxUnit } from './tx-plan';

/**
 * One transaction of the committer (committer.ts) through kafkajs, and the transactional
 * producer it runs on: begin, send the units' silver records and dead letters, send their input
 * offsets, commit. A failure comes back as a `StageError` naming the stage it failed at, which
 * is what the committer's recovery depends on (abort, or replace the producer; a failed commit
 * leaves the outcome unknown). No queueing, retries or recovery here: those are the committer's.
 */
export type TxStage = 'begin' | 'produce' | 'offsets' | 'commit';

/** A transaction that failed at one stage (internal: the committer recovers from it). */
export class StageError extends CdcError {
  constructor(
    readonly stage: TxStage,
    readonly error: unknown,
    readonly txn: Transaction | null,
  ) {
    super('UNAVAILABLE', `${stage}: ${errorMessage(error)}`, { retriable: true, cause: error });
  }
}

export interface TransactionTarget {
  groupId: string;
  topics: { silver: string; deadLetter: string };
  sendMaxBytes: number;
}

/** Runs the units' transaction on `producer`; returns how long it took (seconds). */
export async function runTransaction(
  producer: Producer | null,
  units: TxUnit[],
  o: TransactionTarget,
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
    for (const topicMessages of planSends(units, o.topics, o.sendMaxBytes)) {
      await txn.sendBatch({ topicMessages, acks: -1 });
    }
  } catch (err) {
    throw new StageError('produce', err, txn);
  }
  try {
    // The commit time rides in the offsets' metadata (`cdc status` shows it).
    const metadata = commitMetadata();
    const topics = planOffsets(units).map((t) => ({
      topic: t.topic,
      partitions: t.partitions.map((p) => ({ ...p, metadata })),
    }));
    await txn.sendOffsets({ consumerGroupId: o.groupId, topics });
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

/** Log fields of a failed attempt. */
export function failureFields(e: StageError, attempts: number, units: number): Record<string, unknown> {
  return { stage: e.stage, attempts, units, err: errorMessage(e.error), type: kafkaErrorType(e.error) };
}

function kafkaErrorType(err: unknown): string | undefined {
  const type = (err as { type?: unknown } | null)?.type;
  return typeof type === 'string' ? type : undefined;
}
