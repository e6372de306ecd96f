import type { Kafka, Producer, Transaction } from 'kafkajs';
import { CdcError, errorMessage, sleep, type Logger } from '@cdc/core';
import type { EnricherMetrics } from './metrics';
import { KeyPartitioner } from '@cdc/core';
import { backoffMs, planOffsets, planSends, takeUnits, unitKey, unitTotals, type TxUnit } from './tx-plan';

/**
 * The one transactional producer of an instance, shared by the partitions it consumes. Work
 * arrives as units (a chunk of one partition's records: its silver records, its dead letters
 * and the input offset after it). Transactions run one at a time; the units that queue up while
 * one commits go together into the next (group commit), so throughput does not depend on the
 * number of partitions or on per-transaction round trips.
 *
 * kafkajs sharp edges handled here:
 *  - a stable transactionalId per instance: on start (and on every new producer) InitProducerId
 *    fences the previous incarnation and aborts its open transaction, or waits for its commit;
 *  - kafkajs has no KIP-447 (no consumer-group generation in TxnOffsetCommit), so a zombie is not
 *    fenced by the broker: units are checked against the current assignment and generation right
 *    before each transaction instead (see enricher.ts);
 *  - CONCURRENT_TRANSACTIONS and other errors before the commit: abort, back off, retry the same
 *    units (their order is kept: nothing queued behind them starts first);
 *  - a failed commit() leaves the kafkajs producer unusable: it is replaced, and since the commit
 *    may or may not have happened the units fail as `uncertain`, so their partitions re-read the
 *    committed offsets before they go on.
 * A unit's promise settles only after its transaction's outcome is final (committed, or aborted
 * and the producer usable again). Once a unit of a partition fails, later units of that
 * partition are refused until the partition handler calls `clearFailure` (it restarts from the
 * failed unit), so no offset is ever committed past records that were not.
 */
export class UnitRejectedError extends CdcError {
  constructor(readonly reason: 'partition-failed' | 'not-owned' | 'closed') {
    super('TRANSACTION_REFUSED', `transaction unit refused: ${reason}`, { retriable: reason !== 'closed' });
  }
}

export class TransactionFailedError extends CdcError {
  constructor(
    message: string,
    /** True when commit() failed: the transaction may have committed. */
    readonly uncertain: boolean,
    cause: unknown,
  ) {
    super('TRANSACTION_FAILED', message, { retriable: true, cause });
  }
}

/** A transaction that failed at one stage (internal: the committer recovers from it). */
class StageError extends CdcError {
  constructor(
    readonly stage: 'begin' | 'produce' | 'offsets' | 'commit',
    readonly error: unknown,
    readonly txn: Transaction | null,
  ) {
    super('TRANSACTION_FAILED', `${stage}: ${errorMessage(error)}`, { retriable: true, cause: error });
  }
}

export interface CommitterOptions {
  kafka: Kafka;
  logger: Logger;
  metrics: EnricherMetrics;
  transactionalId: string;
  groupId: string;
  topics: { silver: string; deadLetter: string };
  transactionTimeoutMs: number;
  transactionMaxRecords: number;
  sendMaxBytes: number;
  retryInitialMs: number;
  retryMaxMs: number;
  /** Whether the unit's partition is still ours, in the generation it was fetched in. */
  isOwned(unit: TxUnit): boolean;
}

interface Pending {
  unit: TxUnit;
  resolve(): void;
  reject(err: Error): void;
}

/** Attempts per group of units for errors before the commit (CONCURRENT_TRANSACTIONS and the like). */
const MAX_ATTEMPTS = 5;

export class TransactionCommitter {
  private producer: Producer | null = null;
  private readonly queue: Pending[] = [];
  private readonly failed = new Set<string>();
  private looping: Promise<void> | null = null;
  private closed = false;
  private readonly log: Logger;

  constructor(private readonly o: CommitterOptions) {
    this.log = o.logger.child({ component: 'committer', transactionalId: o.transactionalId });
  }

  get ready(): boolean {
    return this.producer !== null && !this.closed;
  }

  /** Connects the producer and fences any previous incarnation of this transactional id. */
  async start(): Promise<void> {
    this.producer = await this.newProducer();
  }

  submit(unit: TxUnit): Promise<void> {
    if (this.closed) return Promise.reject(new UnitRejectedError('closed'));
    if (this.failed.has(unitKey(unit))) return Promise.reject(new UnitRejectedError('partition-failed'));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ unit, resolve, reject });
      this.kick();
    });
  }

  /** Accept units of this partition again (its handler restarts from the first failed unit). */
  clearFailure(p: { topic: string; partition: number }): void {
    this.failed.delete(unitKey(p));
  }

  /** Refuses new units from now on (queued ones still commit); a producer that cannot be replaced is given up. */
  beginClose(): void {
    this.closed = true;
  }

  /** Refuses new units, lets the running transaction finish, disconnects the producer. */
  async close(): Promise<void> {
    this.closed = true;
    await this.looping;
    for (const p of this.queue.splice(0)) p.reject(new UnitRejectedError('closed'));
    await this.producer?.disconnect().catch(() => undefined);
    this.producer = null;
  }

  private kick(): void {
    if (this.looping) return;
    this.looping = this.loop().finally(() => {
      this.looping = null;
      if (this.queue.length > 0 && !this.closed) this.kick();
    });
  }

  private async loop(): Promise<void> {
    while (this.queue.length > 0) {
      const group: Pending[] = [];
      for (const p of takeUnits(this.queue, this.o.transactionMaxRecords)) {
        if (this.failed.has(unitKey(p.unit))) p.reject(new UnitRejectedError('partition-failed'));
        else if (!this.o.isOwned(p.unit)) p.reject(new UnitRejectedError('not-owned'));
        else group.push(p);
      }
      if (group.length > 0) await this.runGroup(group);
    }
  }

  private async runGroup(group: Pending[]): Promise<void> {
    const units = group.map((p) => p.unit);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.transact(units);
        for (const p of group) p.resolve();
        return;
      } catch (err) {
        const e = err instanceof StageError ? err : new StageError('begin', err, null);
        const uncertain = e.stage === 'commit';
        this.log.warn(
          {
            stage: e.stage,
            attempt,
            units: units.length,
            err: errorMessage(e.error),
            type: kafkaErrorType(e.error),
          },
          'transaction failed',
        );
        await this.recover(e);
        const retry =
          !uncertain && attempt < MAX_ATTEMPTS && !this.closed && units.every((u) => this.o.isOwned(u));
        if (retry) {
          await sleep(backoffMs(attempt, this.o.retryInitialMs, this.o.retryMaxMs));
          continue;
        }
        const failure = new TransactionFailedError(
          `transaction ${uncertain ? 'commit failed (outcome unknown)' : 'aborted'}: ${errorMessage(e.error)}`,
          uncertain,
          e.error,
        );
        for (const u of units) this.failed.add(unitKey(u));
        // Units of the failed partitions queued meanwhile must not commit past the failed ones.
        for (let i = this.queue.length - 1; i >= 0; i--) {
          const p = this.queue[i]!;
          if (this.failed.has(unitKey(p.unit))) {
            this.queue.splice(i, 1);
            p.reject(new UnitRejectedError('partition-failed'));
          }
        }
        for (const p of group) p.reject(failure);
        return;
      }
    }
  }

  private async transact(units: TxUnit[]): Promise<void> {
    const producer = this.producer;
    if (!producer) throw new StageError('begin', new CdcError('INTERNAL', 'no producer'), null);
    const started = process.hrtime.bigint();
    let txn: Transaction;
    try {
      txn = await producer.transaction();
    } catch (err) {
      throw new StageError('begin', err, null);
    }
    try {
      for (const topicMessages of planSends(units, this.o.topics, this.o.sendMaxBytes)) {
        await txn.sendBatch({ topicMessages, acks: -1 });
      }
    } catch (err) {
      throw new StageError('produce', err, txn);
    }
    try {
      await txn.sendOffsets({ consumerGroupId: this.o.groupId, topics: planOffsets(units) });
    } catch (err) {
      throw new StageError('offsets', err, txn);
    }
    try {
      await txn.commit();
    } catch (err) {
      throw new StageError('commit', err, txn);
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    this.o.metrics.committed({ ...unitTotals(units), seconds });
  }

  /**
   * After a failure: abort; replace the producer when the abort fails, after a failed commit, and
   * after a failed produce request (its idempotence sequence numbers may no longer match the
   * broker's; a new producer gets a new epoch and starts them again). Retries until a producer
   * works or the committer closes.
   */
  private async recover(e: StageError): Promise<void> {
    let aborted = false;
    if ((e.stage === 'produce' || e.stage === 'offsets') && e.txn?.isActive()) {
      try {
        await e.txn.abort();
        aborted = true;
      } catch (err) {
        this.log.warn({ err: errorMessage(err) }, 'abort failed; replacing the producer');
      }
    }
    this.o.metrics.aborted(e.stage === 'commit' ? 'failed' : 'abort');
    if (aborted && e.stage === 'offsets') return;
    const old = this.producer;
    this.producer = null;
    await old?.disconnect().catch(() => undefined);
    for (let attempt = 1; ; attempt++) {
      try {
        this.producer = await this.newProducer();
        this.o.metrics.producerRecreated();
        return;
      } catch (err) {
        this.log.warn({ attempt, err: errorMessage(err) }, 'could not create a new transactional producer');
        if (this.closed && attempt >= 3) return;
        await sleep(backoffMs(attempt, this.o.retryInitialMs, this.o.retryMaxMs));
      }
    }
  }

  /**
   * Retries are bounded (the client's retry settings), so kafkajs warns "Limiting retries for the
   * idempotent producer may invalidate EoS guarantees": deliberate, since a send that gives up
   * aborts its transaction and the producer is replaced, instead of a transaction hanging forever.
   */
  private async newProducer(): Promise<Producer> {
    const producer = this.o.kafka.producer({
      transactionalId: this.o.transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: this.o.transactionTimeoutMs,
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
}

function kafkaErrorType(err: unknown): string | undefined {
  const type = (err as { type?: unknown } | null)?.type;
  return typeof type === 'string' ? type : undefined;
}
