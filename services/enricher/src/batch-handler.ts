import {
  errorMessage,
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
    // kafkajs builds these as closures over the batch, not as methods: destructuring them is safe.
    // eslint-disable-next-line @typescript-eslint/unbound-method
    const { batch, resolveOffset, heartbeat, isRunning, isStale } = payload;
    const { topic, partition } = batch;
    const generation = deps.state.generation;
    const end = deps.rangeEnd?.(topic, partition);
    const inRange = end === undefined ? batch.messages : batch.messages.filter((m) => Number(m.offset) < end);
    const lastMessage = inRange[inRange.length - 1];
    if (!lastMessage) {
      // Only records at or past the range's end: this partition is done.
      if (batch.messages.length > 0) payload.pause();
      return;
    }
    // The next offset after the batch's last record in range: past trailing control or aborted
    // records too, and straight to the end when the batch holds a record past it (nothing between).
    const lastNextOffset =
      end === undefined
        ? Number(batch.lastOffset()) + 1
        : inRange.length < batch.messages.length
          ? end
          : Math.min(Number(batch.lastOffset()) + 1, end);
    const highWatermark = Number(batch.highWatermark);

    const alive = (): boolean =>
      isRunning() && !isStale() && !deps.state.rebalancing && deps.state.generation === generation;

    /** Heartbeats; false when the group is rebalancing (stop and let kafkajs rejoin). */
    const beat = async (): Promise<boolean> => {
      try {
        await heartbeat();
        return true;
      } catch (err) {
        if (isRebalance(err)) deps.state.markRebalancing();
        log.debug({ partition, err: errorMessage(err) }, 'heartbeat failed; stopping this batch');
        return false;
      }
    };

    /** Waits for a unit's outcome, heartbeating while the transaction takes its time. */
    const settle = async (p: Promise<void>): Promise<PromiseSettledResult<void>> => {
      const outcome = p.then(
        (): PromiseSettledResult<void> => ({ status: 'fulfilled', value: undefined }),
        (reason: unknown): PromiseSettledResult<void> => ({ status: 'rejected', reason }),
      );
      for (;;) {
        let timer: NodeJS.Timeout | undefined;
        const tick = new Promise<null>((r) => (timer = setTimeout(() => r(null), deps.heartbeatIntervalMs)));
        const r = await Promise.race([outcome, tick]);
        clearTimeout(timer);
        if (r) return r;
        await beat();
      }
    };

    const waitBeforeRetry = async (attempt: number): Promise<boolean> => {
      let remaining = backoffMs(attempt, deps.retryInitialMs, deps.retryMaxMs);
      while (remaining > 0) {
        if (!alive()) return false;
        const step = Math.min(remaining, 500);
        await sleep(step);
        remaining -= step;
        if (!(await beat())) return false;
      }
      return alive();
    };

    const attemptOnce = async (pending: KafkaMessage[]): Promise<Attempt> => {
      const submitted: { chunk: KafkaMessage[]; nextOffset: number; promise: Promise<void> }[] = [];
      let error: unknown;
      for (let i = 0; i < pending.length && alive(); i += deps.chunkRecords) {
        const chunk = pending.slice(i, i + deps.chunkRecords);
        const last = chunk[chunk.length - 1]!;
        const lease = deps.derivations.acquire();
        let out;
        try {
          out = await enrichChunk(chunk, { topic, partition }, { ...deps.enrich, deriver: lease.deriver });
        } catch (err) {
          lease.release();
          error = err;
          break;
        }
        const nextOffset = last === lastMessage ? lastNextOffset : Number(last.offset) + 1;
        const promise = deps.committer.submit({
          topic,
          partition,
          nextOffset,
          silver: out.silver,
          deadLetters: out.deadLetters,
          recordsIn: chunk.length,
          invalid: out.invalid,
          deadLetterCodes: out.deadLetterCodes,
          generation,
        });
        const release = () => lease.release();
        promise.then(release, release); // settled below, in order
        submitted.push({ chunk, nextOffset, promise });
        if (!(await beat())) break;
      }
      const result: Attempt = { committed: 0, error, uncertain: false };
      let failed = false;
      for (const s of submitted) {
        const outcome = await settle(s.promise);
        if (outcome.status === 'fulfilled') {
          if (failed) {
            log.error(
              { partition, nextOffset: s.nextOffset },
              'a unit committed after an earlier one failed',
            );
            continue;
          }
          resolveOffset(s.chunk[s.chunk.length - 1]!.offset);
          deps.state.noteCommitted(topic, partition, s.nextOffset);
          deps.onCommitted?.(topic, partition, s.nextOffset);
          deps.metrics.setLag(topic, partition, Math.max(0, highWatermark - s.nextOffset));
          deps.outages?.recovered('registry');
          result.committed += s.chunk.length;
        } else {
          failed = true;
          result.error ??= outcome.reason;
          if (outcome.reason instanceof TransactionFailedError && outcome.reason.uncertain)
            result.uncertain = true;
        }
      }
      return result;
    };

    try {
      await deps.beforeBatch?.(generation);
      let from = await deps.state.startOffset(topic, partition);
      let pending = inRange.filter((m) => Number(m.offset) >= from);
      for (let attempt = 1; ; attempt++) {
        if (pending.length === 0) {
          // Everything here was committed already (by us before a rejoin, or by the previous owner).
          resolveOffset(lastMessage.offset);
          return;
        }
        if (!alive()) return;
        deps.committer.clearFailure({ topic, partition });
        const r = await attemptOnce(pending);
        pending = pending.slice(r.committed);
        if (pending.length === 0 || !alive()) return;
        if (r.error instanceof UnitRejectedError && r.error.reason !== 'partition-failed') return;
        deps.metrics.batchRetried();
        const retryFields = {
          partition,
          offset: pending[0]!.offset,
          records: pending.length,
          attempt,
          err: errorMessage(r.error),
        };
        const cause = r.error instanceof TransactionFailedError ? r.error.cause : r.error;
        if (deps.outages?.report(cause, `partition ${partition}`))
          log.debug(retryFields, 'batch not committed; retrying');
        else log.warn(retryFields, 'batch not committed; retrying after a backoff');
        if (r.uncertain) deps.state.invalidate(topic, partition);
        if (!(await waitBeforeRetry(attempt))) return;
        if (r.uncertain) {
          // The failed commit may have gone through: go on from what the broker says.
          from = await deps.state.startOffset(topic, partition);
          const before = pending.length;
          pending = pending.filter((m) => Number(m.offset) >= from);
          if (pending.length < before) log.info({ partition, from }, 'the uncertain commit had committed');
        }
      }
    } catch (err) {
      // Only a bug or an unreachable group coordinator gets here. Wait, then let kafkajs fetch again
      // from the first record not committed.
      if (deps.outages?.report(err, `partition ${partition}`)) {
        await sleep(deps.retryInitialMs);
        return;
      }
      log.error(
        { partition, err: errorMessage(err) },
        'batch handler failed; the batch will be fetched again',
      );
      await sleep(deps.retryInitialMs);
    }
  };
}
