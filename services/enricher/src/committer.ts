import {
  CdcError,
  abortFailed,
  errorMessage,
  failureFields,
  newTransactionalProducer,
  runTransaction,
  sleep,
  StageError,
  type Kafka,
  type Logger,
  type OutageTracker,
  type Producer,
} from '@cdc/core';
import type { EnricherMetrics } from './metrics';
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
 *    before each transaction instead (see service.ts);
 *  - right after a commit the coordinator answers CONCURRENT_TRANSACTIONS until the previous
 *    transaction's markers are written (a few ms): the patched kafkajs retries the next
 *    transaction's first request after a few ms (patches/kafkajs+2.2.4.patch, eosManager);
 *  - CONCURRENT_TRANSACTIONS that does not settle and other errors before the commit: abort, back
 *    off, retry the same units (their order is kept: nothing queued behind them starts first);
 *    attempts that fail are logged at debug, a group that fails every attempt once, at warn;
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
    super('CONFLICT', `enricher: transaction unit refused: ${reason}`, { retriable: reason !== 'closed' });
  }
}

export class TransactionFailedError extends CdcError {
  constructor(
    message: string,
    /** True when commit() failed: the transaction may have committed. */
    readonly uncertain: boolean,
    cause: unknown,
  ) {
    super('UNAVAILABLE', message, { retriable: true, cause });
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
  /** How long a unit that finds the committer idle waits for more before its transaction starts. */
  transactionLingerMs: number;
  sendMaxBytes: number;
  retryInitialMs: number;
  retryMaxMs: number;
  /** Whether the unit's partition is still ours, in the generation it was fetched in. */
  isOwned(unit: TxUnit): boolean;
  /** Broker failures are reported here (one warning per outage) instead of a warning per attempt. */
  outages?: OutageTracker;
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
  /** Ends the current linger early (a full transaction's worth queued, or closing). */
  private endLinger: (() => void) | null = null;
  private closed = false;
  /** Input records submitted and not settled yet. */
  private pendingRecords = 0;
  /** Input records whose units did not commit after closing began (read again by the next run). */
  private abandonedRecords = 0;
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
    this.pendingRecords += unit.recordsIn;
    const settled = new Promise<void>((resolve, reject) => {
      this.queue.push({ unit, resolve, reject });
      if (this.endLinger && this.queuedRecords() >= this.o.transactionMaxRecords) this.endLinger();
      this.kick();
    });
    const done = (committed: boolean): void => {
      this.pendingRecords -= unit.recordsIn;
      if (!committed && this.closed) this.abandonedRecords += unit.recordsIn;
    };
    settled.then(
      () => done(true),
      () => done(false),
    );
    return settled;
  }

  /**
   * What stopping now leaves undone: records in a transaction not committed yet, and records whose
   * transaction did not commit once closing began. Neither is lost: the broker aborts an open
   * transaction (or the next instance fences it) and the records are read and enriched again.
   */
  unfinishedWork(): string[] {
    const out: string[] = [];
    if (this.pendingRecords > 0) {
      out.push(
        `a transaction of ${this.pendingRecords} input records not committed (aborted by the broker or fenced by the next instance; enriched again on the next start)`,
      );
    }
    if (this.abandonedRecords > 0) {
      out.push(
        `${this.abandonedRecords} enriched input records not committed (read again on the next start)`,
      );
    }
    return out;
  }

  /** Accept units of this partition again (its handler restarts from the first failed unit). */
  clearFailure(p: { topic: string; partition: number }): void {
    this.failed.delete(unitKey(p));
  }

  /** Refuses new units from now on (queued ones still commit); a producer that cannot be replaced is given up. */
  beginClose(): void {
    this.closed = true;
    this.endLinger?.();
  }

  /** Refuses new units, lets the running transaction finish, disconnects the producer. */
  async close(): Promise<void> {
    this.closed = true;
    this.endLinger?.();
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
    await this.linger();
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

  /**
   * Commit on size or a short linger. A fetch brings records of several partitions; their
   * handlers run concurrently and submit their units within a millisecond or two of each other.
   * Without a linger the first unit would start a transaction alone and the others would wait
   * for it to commit and go in a second one: two transactions' time (and broker work) per fetch
   * instead of one. Units that queue while a transaction runs go into the next without waiting.
   */
  private async linger(): Promise<void> {
    if (this.o.transactionLingerMs <= 0 || this.closed) return;
    if (this.queuedRecords() >= this.o.transactionMaxRecords) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.endLinger?.(), this.o.transactionLingerMs);
      this.endLinger = () => {
        clearTimeout(timer);
        this.endLinger = null;
        resolve();
      };
    });
  }

  private queuedRecords(): number {
    let n = 0;
    for (const p of this.queue) n += p.unit.recordsIn;
    return n;
  }

  private async runGroup(group: Pending[]): Promise<void> {
    const units = group.map((p) => p.unit);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.transact(units);
        this.o.outages?.recovered('broker');
        if (attempt > 1)
          this.log.debug({ attempts: attempt, units: units.length }, 'transaction committed after retries');
        for (const p of group) p.resolve();
        return;
      } catch (err) {
        const e = err instanceof StageError ? err : new StageError('begin', err, null);
        const uncertain = e.stage === 'commit';
        // An outage is logged once by the tracker; any other failed attempt at debug (the one
        // warning comes when every attempt failed).
        if (!this.o.outages?.report(e.error, `transaction (${e.stage})`))
          this.log.debug(failureFields(e, attempt, units.length), 'transaction attempt failed');
        await this.recover(e);
        const retry =
          !uncertain && attempt < MAX_ATTEMPTS && !this.closed && units.every((u) => this.o.isOwned(u));
        if (retry) {
          await sleep(backoffMs(attempt, this.o.retryInitialMs, this.o.retryMaxMs));
          continue;
        }
        // One warning per incident: the group gave up, after `attempts` tries.
        this.log.warn(failureFields(e, attempt, units.length), 'transaction failed');
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
    const seconds = await runTransaction(this.producer, {
      groupId: this.o.groupId,
      sends: () => planSends(units, this.o.topics, this.o.sendMaxBytes),
      offsets: () => planOffsets(units),
    });
    this.o.metrics.committed({ ...unitTotals(units), seconds });
  }

  /**
   * After a failure: abort; replace the producer when the abort fails, after a failed commit, and
   * after a failed produce request (its idempotence sequence numbers may no longer match the
   * broker's; a new producer gets a new epoch and starts them again). Retries until a producer
   * works or the committer closes.
   */
  private async recover(e: StageError): Promise<void> {
    const usable = await abortFailed(e, (err) =>
      this.log.warn({ err }, 'abort failed; replacing the producer'),
    );
    this.o.metrics.aborted(e.stage === 'commit' ? 'failed' : 'abort');
    if (usable) return;
    const old = this.producer;
    this.producer = null;
    await old?.disconnect().catch(() => undefined);
    for (let attempt = 1; ; attempt++) {
      try {
        this.producer = await this.newProducer();
        this.o.metrics.producerRecreated();
        return;
      } catch (err) {
        if (!this.o.outages?.report(err, 'a new transactional producer')) {
          this.log.warn({ attempt, err }, 'could not create a new transactional producer');
        }
        if (this.closed) return;
        await sleep(backoffMs(attempt, this.o.retryInitialMs, this.o.retryMaxMs));
      }
    }
  }

  /** A new transactional producer (core's kafka/transaction.ts), fencing the previous one of this id. */
  private newProducer(): Promise<Producer> {
    return newTransactionalProducer(this.o.kafka, this.o);
  }
}
