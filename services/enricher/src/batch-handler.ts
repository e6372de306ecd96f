import {
  isRebalance,
  sleep,
  type Logger,
  type OutageTracker,
  type EachBatchPayload,
  type KafkaMessage,
} from '@cdc/core';
import { TransactionFailedError, UnitRejectedError, type TransactionCommitter } from './committer';
import type { DerivationSource } from './derivations';
import type { GroupState } from './group-state';
import type { EnricherMetrics } from './metrics';
import { enrichChunk, type EnrichDeps } from './transform';
import { backoffMs } from './tx-plan';

/**
 * kafkajs eachBatch for one bronze partition. The batch is cut into chunks; each chunk is
 * enriched and handed to the committer as one unit; the offset is resolved only after the unit's
 * transaction commits. On a failure (aborted transaction, registry down) the remaining records
 * are retried here after a backoff, heartbeating meanwhile, so the partition waits instead of
 * losing or dead-lettering anything. When the consumer stops or the group rebalances, the handler
 * returns with the rest unresolved: the next fetch starts at the first record not committed, which
 * is what a seek would do (we do not call consumer.seek: kafkajs keeps a pending seek across a
 * rebalance and would apply it if the partition came back after another instance moved it on).
 *
 * Each chunk is enriched with the deriver current when it is enriched (a lease from `derivations`,
 * returned when its unit settled), so a change of settings applies from the next chunk on and a
 * chunk retried after an abort is enriched again with the settings current then.
 *
 * With `rangeEnd` (a backfill) a partition is processed only up to its end offset: records at or
 * past it are never enriched, the last unit commits exactly the end offset, and a batch that holds
 * nothing before the end pauses the partition.
 *
 * It never throws: a throwing eachBatch makes kafkajs restart the consumer on the same offset.
 */
export interface BatchHandlerDeps {
  committer: TransactionCommitter;
  state: GroupState;
  metrics: EnricherMetrics;
  enrich: Omit<EnrichDeps, 'deriver'>;
  derivations: DerivationSource;
  /** Exclusive end offset of a partition's range; undefined: no end. */
  rangeEnd?: (topic: string, partition: number) => number | undefined;
  /** Awaited before each batch, with its generation (the enricher catches up with the control topic once per generation). */
  beforeBatch?: (generation: number) => Promise<void>;
  /** Heard after each unit committed: the partition's next offset. */
  onCommitted?: (topic: string, partition: number, nextOffset: number) => void;
  chunkRecords: number;
  heartbeatIntervalMs: number;
  retryInitialMs: number;
  retryMaxMs: number;
  logger: Logger;
  /** A broker or registry outage is reported here (one warning per outage), not per retry. */
  outages?: OutageTracker;
}

interface Attempt {
  /** Records committed from the front of the pending list. */
  committed: number;
  error: unknown;
  uncertain: boolean;
}

export function createBatchHandler(deps: BatchHandlerDeps): (payload: EachBatchPayload) => Promise<void> {
  const log = deps.logger.child({ component: 'batch' });
  return async function eachBatch(payload: EachBatchPayload): Promise<void> {
    const end = deps.rangeEnd?.(payload.batch.topic, payload.batch.partition);
    const inRange =
      end === undefined
        ? payload.batch.messages
        : payload.batch.messages.filter((m) => Number(m.offset) < end);
    if (inRange.length === 0) {
      // Only records at or past the range's end: this partition is done.
      if (payload.batch.messages.length > 0) payload.pause();
      return;
    }
    await new PartitionBatch(deps, log, payload, inRange, end).run();
  };
}

/** One eachBatch call: the records of one partition in range, committed in units, retried until done or no longer ours. */
class PartitionBatch {
  private readonly topic: string;
  private readonly partition: number;
  /** The group's generation when the batch came: a rejoin since makes the batch stale. */
  private readonly generation: number;
  private readonly lastMessage: KafkaMessage;
  /**
   * The next offset after the batch's last record in range: past trailing control or aborted
   * records too, and straight to the end when the batch holds a record past it (nothing between).
   */
  private readonly lastNextOffset: number;
  private readonly highWatermark: number;

  constructor(
    private readonly deps: BatchHandlerDeps,
    private readonly log: Logger,
    private readonly payload: EachBatchPayload,
    private readonly inRange: KafkaMessage[],
    end: number | undefined,
  ) {
    const { batch } = payload;
    this.topic = batch.topic;
    this.partition = batch.partition;
    this.generation = deps.state.generation;
    this.lastMessage = inRange[inRange.length - 1]!;
    this.lastNextOffset =
      end === undefined
        ? Number(batch.lastOffset()) + 1
        : inRange.length < batch.messages.length
          ? end
          : Math.min(Number(batch.lastOffset()) + 1, end);
    this.highWatermark = Number(batch.highWatermark);
  }

  /** Never throws: a throwing eachBatch makes kafkajs restart the consumer on the same offset. */
  async run(): Promise<void> {
    try {
      await this.commitWithRetries();
    } catch (err) {
      // Only a bug or an unreachable group coordinator gets here. Wait, then let kafkajs fetch again
      // from the first record not committed.
      if (this.deps.outages?.report(err, `partition ${this.partition}`)) {
        await sleep(this.deps.retryInitialMs);
        return;
      }
      this.log.error(
        { partition: this.partition, err },
        'batch handler failed; the batch will be fetched again',
      );
      await sleep(this.deps.retryInitialMs);
    }
  }

  private async commitWithRetries(): Promise<void> {
    const { deps, topic, partition } = this;
    await deps.beforeBatch?.(this.generation);
    const from = await deps.state.startOffset(topic, partition);
    let pending = this.inRange.filter((m) => Number(m.offset) >= from);
    for (let attempt = 1; ; attempt++) {
      if (pending.length === 0) {
        // Everything here was committed already (by us before a rejoin, or by the previous owner).
        this.payload.resolveOffset(this.lastMessage.offset);
        return;
      }
      if (!this.alive()) return;
      deps.committer.clearFailure({ topic, partition });
      const r = await this.attemptOnce(pending);
      pending = pending.slice(r.committed);
      if (pending.length === 0 || !this.alive()) return;
      if (r.error instanceof UnitRejectedError && r.error.reason !== 'partition-failed') return;
      this.reportRetry(pending, attempt, r.error);
      if (r.uncertain) deps.state.invalidate(topic, partition);
      if (!(await this.waitBeforeRetry(attempt))) return;
      if (r.uncertain) {
        // The failed commit may have gone through: go on from what the broker says.
        const from = await deps.state.startOffset(topic, partition);
        const before = pending.length;
        pending = pending.filter((m) => Number(m.offset) >= from);
        if (pending.length < before) this.log.info({ partition, from }, 'the uncertain commit had committed');
      }
    }
  }

  private reportRetry(pending: KafkaMessage[], attempt: number, error: unknown): void {
    this.deps.metrics.batchRetried();
    const retryFields = {
      partition: this.partition,
      offset: pending[0]!.offset,
      records: pending.length,
      attempt,
      err: error,
    };
    const cause = error instanceof TransactionFailedError ? error.cause : error;
    if (this.deps.outages?.report(cause, `partition ${this.partition}`))
      this.log.debug(retryFields, 'batch not committed; retrying');
    else this.log.warn(retryFields, 'batch not committed; retrying after a backoff');
  }

  private alive(): boolean {
    const { state } = this.deps;
    return (
      this.payload.isRunning() &&
      !this.payload.isStale() &&
      !state.rebalancing &&
      state.generation === this.generation
    );
  }

  /** Heartbeats; false when the group is rebalancing (stop and let kafkajs rejoin). */
  private async beat(): Promise<boolean> {
    try {
      await this.payload.heartbeat();
      return true;
    } catch (err) {
      if (isRebalance(err)) this.deps.state.markRebalancing();
      this.log.debug({ partition: this.partition, err }, 'heartbeat failed; stopping this batch');
      return false;
    }
  }

  /** Waits for a unit's outcome, heartbeating while the transaction takes its time. */
  private async settle(p: Promise<void>): Promise<PromiseSettledResult<void>> {
    const outcome = p.then(
      (): PromiseSettledResult<void> => ({ status: 'fulfilled', value: undefined }),
      (reason: unknown): PromiseSettledResult<void> => ({ status: 'rejected', reason }),
    );
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const tick = new Promise<null>(
        (r) => (timer = setTimeout(() => r(null), this.deps.heartbeatIntervalMs)),
      );
      const r = await Promise.race([outcome, tick]);
      clearTimeout(timer);
      if (r) return r;
      await this.beat();
    }
  }

  private async waitBeforeRetry(attempt: number): Promise<boolean> {
    let remaining = backoffMs(attempt, this.deps.retryInitialMs, this.deps.retryMaxMs);
    while (remaining > 0) {
      if (!this.alive()) return false;
      const step = Math.min(remaining, 500);
      await sleep(step);
      remaining -= step;
      if (!(await this.beat())) return false;
    }
    return this.alive();
  }

  /** Enriches and submits the pending records chunk by chunk, then settles the units in order. */
  private async attemptOnce(pending: KafkaMessage[]): Promise<Attempt> {
    const { submitted, error } = await this.submitChunks(pending);
    const result: Attempt = { committed: 0, error, uncertain: false };
    let failed = false;
    for (const s of submitted) {
      const outcome = await this.settle(s.promise);
      if (outcome.status === 'fulfilled') {
        if (failed) {
          this.log.error(
            { partition: this.partition, nextOffset: s.nextOffset },
            'a unit committed after an earlier one failed',
          );
          continue;
        }
        this.committed(s.chunk, s.nextOffset);
        result.committed += s.chunk.length;
      } else {
        failed = true;
        result.error ??= outcome.reason;
        if (outcome.reason instanceof TransactionFailedError && outcome.reason.uncertain)
          result.uncertain = true;
      }
    }
    return result;
  }

  private async submitChunks(
    pending: KafkaMessage[],
  ): Promise<{ submitted: SubmittedUnit[]; error: unknown }> {
    const { deps, topic, partition } = this;
    const submitted: SubmittedUnit[] = [];
    for (let i = 0; i < pending.length && this.alive(); i += deps.chunkRecords) {
      const chunk = pending.slice(i, i + deps.chunkRecords);
      const last = chunk[chunk.length - 1]!;
      const lease = deps.derivations.acquire();
      let out;
      try {
        out = await enrichChunk(chunk, { topic, partition }, { ...deps.enrich, deriver: lease.deriver });
      } catch (err) {
        lease.release();
        return { submitted, error: err };
      }
      const nextOffset = last === this.lastMessage ? this.lastNextOffset : Number(last.offset) + 1;
      const promise = deps.committer.submit({
        topic,
        partition,
        nextOffset,
        silver: out.silver,
        deadLetters: out.deadLetters,
        recordsIn: chunk.length,
        invalid: out.invalid,
        deadLetterCodes: out.deadLetterCodes,
        generation: this.generation,
      });
      const release = () => lease.release();
      promise.then(release, release); // settled by attemptOnce, in order
      submitted.push({ chunk, nextOffset, promise });
      if (!(await this.beat())) break;
    }
    return { submitted, error: undefined };
  }

  /** A unit committed: its offset resolved, and everyone who follows the partition's progress told. */
  private committed(chunk: KafkaMessage[], nextOffset: number): void {
    const { deps, topic, partition } = this;
    this.payload.resolveOffset(chunk[chunk.length - 1]!.offset);
    deps.state.noteCommitted(topic, partition, nextOffset);
    deps.onCommitted?.(topic, partition, nextOffset);
    deps.metrics.setLag(topic, partition, Math.max(0, this.highWatermark - nextOffset));
    deps.outages?.recovered('registry');
  }
}

interface SubmittedUnit {
  chunk: KafkaMessage[];
  nextOffset: number;
  promise: Promise<void>;
}
