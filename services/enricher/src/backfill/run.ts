import {
  CdcError,
  committedOffsets,
  errorMessage,
  OutageTracker,
  rangeProgress,
  retryWhileOutage,
  waitFor,
  type BackfillPartition,
  type DerivationSettings,
  type Logger,
  type RangeProgress,
  type RegistryClient,
  type Admin,
  type Kafka,
} from '@cdc/core';
import type { EnricherConfig } from '../config';
import { fixedDerivation } from '../derivations';
import { startEnrichLoop } from '../enrich-loop';
import { silverCodec } from '../service';
import { EnricherMetrics } from '../metrics';
import { deriverFor } from '@cdc/bookings';

/**
 * Re-derives a bounded range of bronze into silver with the enricher's exactly-once machinery
 * (enrich-loop.ts: committer, batch handler) in the backfill's own consumer group and
 * transactional id: records at or past a partition's end are never produced, and it is done when
 * every partition's committed offset has reached its end. Killed, it resumes from the committed
 * offsets (the transactional id fences the killed run's open transaction).
 */
export const BACKFILL_DEAD_LETTER_HEADER = 'dlq.backfill.epoch';

export type { RangeProgress } from '@cdc/core';

export interface RunRangeResult {
  complete: boolean;
  /** Records re-derived by this run, and how long it took. */
  records: number;
  ms: number;
  /** Transactions this run committed and aborted. */
  transactions: number;
  aborted: number;
}

export async function runRange(o: {
  /** With the backfill's group and transactional id. */
  config: EnricherConfig;
  kafka: Kafka;
  admin: Admin;
  registry: RegistryClient;
  logger: Logger;
  settings: Pick<DerivationSettings, 'time_zone' | 'rules_version' | 'epoch'>;
  partitions: BackfillPartition[];
  onProgress?: (p: RangeProgress) => void;
  signal?: AbortSignal;
}): Promise<RunRangeResult> {
  const { config, admin } = o;
  const topic = config.topics.bronze;
  const started = performance.now();
  const committed = await committedOffsets(admin, config.groupId, topic);
  const initial = rangeProgress(o.partitions, committed);
  o.onProgress?.(initial);
  if (initial.complete) return { complete: true, records: 0, ms: 0, transactions: 0, aborted: 0 };

  const ends = new Map(o.partitions.map((p) => [p.partition, p.end]));
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const aborted = new Promise<void>((resolve) => {
    if (o.signal?.aborted) resolve();
    o.signal?.addEventListener('abort', () => resolve(), { once: true });
  });
  // A broker or registry outage during a backfill is waited out like in the live enricher.
  const outages = new OutageTracker({ logger: o.logger });
  const codec = await retryWhileOutage(() => silverCodec(o.registry, config), {
    outages,
    what: 'registering the silver schema',
    signal: o.signal,
  });
  const metrics = new EnricherMetrics();
  const loop = await startEnrichLoop({
    config,
    kafka: o.kafka,
    admin,
    logger: o.logger,
    metrics,
    codec,
    derivations: fixedDerivation(deriverFor(o.settings)),
    // A partition missing from the range (added after it was captured) is not re-derived.
    rangeEnd: (_topic, partition) => ends.get(partition) ?? 0,
    onCommitted: (_topic, partition, next) => {
      committed.set(partition, Math.max(committed.get(partition) ?? 0, next));
      const p = rangeProgress(o.partitions, committed);
      o.onProgress?.(p);
      if (p.complete) finish();
    },
    deadLetterHeaders: { [BACKFILL_DEAD_LETTER_HEADER]: String(o.settings.epoch) },
    startOffsets: new Map(o.partitions.map((p) => [p.partition, p.start])),
    outages,
    signal: o.signal,
    // Static membership: a backfill run again after a kill takes its partitions back at once.
    groupInstanceId: `backfill-${config.instanceId}`,
  });
  // Read again now that the transactional id fenced a killed run (its last commit is complete).
  for (const [partition, offset] of await committedOffsets(admin, config.groupId, topic)) {
    committed.set(partition, Math.max(committed.get(partition) ?? 0, offset));
  }
  const fenced = rangeProgress(o.partitions, committed);
  if (fenced.complete) finish();
  let failure: Error | null = null;
  let reachedEnd = false;
  try {
    await Promise.race([
      done.then(() => (reachedEnd = true)),
      aborted,
      loop.stopped.then((err) => {
        failure = err;
      }),
    ]);
  } finally {
    await loop.close();
  }
  if (failure) {
    throw new CdcError('DEPENDENCY_FAILED', `backfill: its consumer stopped: ${errorMessage(failure)}`, {
      cause: failure,
    });
  }
  // The broker's word, not ours: the committed offsets after the loop closed. Offsets committed in
  // a transaction become visible to OffsetFetch once its markers are written (no KIP-447
  // "require stable" in kafkajs), so after the last commit they may lag for a moment.
  const brokerProgress = async () =>
    rangeProgress(o.partitions, await committedOffsets(admin, config.groupId, topic));
  let final = await brokerProgress();
  if (reachedEnd && !final.complete) {
    final = await waitFor(
      async () => {
        const p = await brokerProgress();
        return p.complete ? p : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: "the backfill's last committed offsets to become visible" },
    ).catch((err: unknown) => {
      throw new CdcError('TIMED_OUT', `backfill: ${errorMessage(err)}`, { retriable: true, cause: err });
    });
  }
  o.onProgress?.(final);
  const stats = metrics.snapshot();
  return {
    complete: final.complete,
    records: final.done - fenced.done,
    ms: performance.now() - started,
    transactions: stats.transactionsCommitted,
    aborted: stats.transactionsAborted,
  };
}
