import type { Admin } from '../kafka/types';
import type { BackfillPartition, BackfillState } from '../types';
import { committedOffsets } from '../kafka/offsets';

/**
 * How far a backfill has come: the offsets its consumer group committed on bronze against the
 * range it recorded in the control topic. Shared by `cdc backfill` (its progress bar and
 * `--status`) and every reader that shows a backfill (the dashboard), so none of them reaches
 * into another's code.
 */
export interface PartitionProgress extends BackfillPartition {
  /** The backfill group's committed offset (start when none yet). */
  committed: number;
  done: number;
  total: number;
}

export interface RangeProgress {
  partitions: PartitionProgress[];
  /** Records re-derived so far, of `total` in the range. */
  done: number;
  total: number;
  complete: boolean;
}

/** Progress over `partitions` given the committed offsets (pure). */
export function rangeProgress(
  partitions: readonly BackfillPartition[],
  committed: ReadonlyMap<number, number>,
): RangeProgress {
  const out = partitions.map((p) => {
    const c = Math.max(committed.get(p.partition) ?? p.start, p.start);
    const total = Math.max(0, p.end - p.start);
    return { ...p, committed: c, done: Math.min(total, c - p.start), total };
  });
  const done = out.reduce((s, p) => s + p.done, 0);
  const total = out.reduce((s, p) => s + p.total, 0);
  return { partitions: out, done, total, complete: out.every((p) => p.committed >= p.end) };
}

/**
 * A backfill's progress: while it runs, from its group's committed offsets; once finished, the
 * whole range; null while it is still switching the enrichers (its range is not captured yet).
 */
export async function backfillProgress(
  admin: Admin,
  backfill: BackfillState,
  bronzeTopic: string,
): Promise<RangeProgress | null> {
  if (backfill.status === 'SWITCHING') return null;
  if (backfill.status === 'FINISHED') {
    return rangeProgress(backfill.partitions, new Map(backfill.partitions.map((p) => [p.partition, p.end])));
  }
  return rangeProgress(backfill.partitions, await committedOffsets(admin, backfill.group_id, bronzeTopic));
}
