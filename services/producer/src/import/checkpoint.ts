/**
 * Which input lines are done: a line is done when it was rejected, skipped (identical to bronze)
 * or its record was acknowledged by the broker (acks=all). Lanes acknowledge their chunks
 * independently, so this tracks input batches ("blocks") and, per lane, which blocks its
 * records belong to, in send order; the checkpoint is the end of the longest prefix of blocks
 * that is entirely done. Pure bookkeeping, no I/O.
 */
export interface ImportCounts {
  /** Input rows and unparseable lines seen. */
  rows: number;
  /** Sent as snapshot reads: bookings bronze did not hold. */
  created: number;
  /** Sent as updates: bookings whose content differs from bronze's newest image. */
  updated: number;
  /** Sent as snapshot reads of bookings whose newest change in bronze is a delete. */
  recreated: number;
  /** Identical to bronze's newest image (or to an earlier row of the input): not sent. */
  unchanged: number;
  rejected: number;
  /** Rows whose total_amount differs from ticket_count × ticket_price (imported; the enricher derives the total). */
  totalMismatches: number;
}

export const emptyCounts = (): ImportCounts => ({
  rows: 0,
  created: 0,
  updated: 0,
  recreated: 0,
  unchanged: 0,
  rejected: 0,
  totalMismatches: 0,
});

export function addCounts(a: ImportCounts, b: ImportCounts): ImportCounts {
  return {
    rows: a.rows + b.rows,
    created: a.created + b.created,
    updated: a.updated + b.updated,
    recreated: a.recreated + b.recreated,
    unchanged: a.unchanged + b.unchanged,
    rejected: a.rejected + b.rejected,
    totalMismatches: a.totalMismatches + b.totalMismatches,
  };
}

export interface Checkpoint {
  /** Every entry up to this line (inclusive) is done. */
  line: number;
  /** Counts over the done lines. */
  counts: ImportCounts;
  /** Size of the rejects file holding the done lines' rejects. */
  rejectsBytes: number;
}

interface Block {
  id: number;
  lastLine: number;
  counts: ImportCounts;
  rejectsBytes: number;
  pending: number;
  sealed: boolean;
}

export interface CheckpointTracker {
  /** Starts a block of input ending at `lastLine`, with its counts and the rejects file size after it. */
  open(lastLine: number, counts: ImportCounts, rejectsBytes: number): number;
  /** One record of block `block` was pushed to `lane` (lanes send in push order). */
  pushed(block: number, lane: number): void;
  /** Every record of the block was pushed. */
  seal(block: number): void;
  /** `lane` had `count` records acknowledged (its oldest unacknowledged ones). */
  acked(lane: number, count: number): void;
  /** The newest checkpoint (advances as blocks complete, in order). */
  current(): Checkpoint;
}

export function createCheckpointTracker(start: Checkpoint): CheckpointTracker {
  let nextId = 0;
  const blocks: Block[] = [];
  const byId = new Map<number, Block>();
  /** Per lane: [block id, records] runs, oldest first. */
  const lanes = new Map<number, [number, number][]>();
  let checkpoint: Checkpoint = { ...start, counts: { ...start.counts } };

  const advance = (): void => {
    while (blocks.length > 0 && blocks[0]!.sealed && blocks[0]!.pending === 0) {
      const b = blocks.shift()!;
      byId.delete(b.id);
      checkpoint = {
        line: b.lastLine,
        counts: addCounts(checkpoint.counts, b.counts),
        rejectsBytes: b.rejectsBytes,
      };
    }
  };

  return {
    open(lastLine, counts, rejectsBytes) {
      const b: Block = { id: nextId++, lastLine, counts, rejectsBytes, pending: 0, sealed: false };
      blocks.push(b);
      byId.set(b.id, b);
      return b.id;
    },
    pushed(block, lane) {
      byId.get(block)!.pending++;
      let runs = lanes.get(lane);
      if (runs === undefined) lanes.set(lane, (runs = []));
      const last = runs[runs.length - 1];
      if (last !== undefined && last[0] === block) last[1]++;
      else runs.push([block, 1]);
    },
    seal(block) {
      byId.get(block)!.sealed = true;
      advance();
    },
    acked(lane, count) {
      const runs = lanes.get(lane) ?? [];
      let left = count;
      while (left > 0 && runs.length > 0) {
        const run = runs[0]!;
        const n = Math.min(left, run[1]);
        run[1] -= n;
        left -= n;
        byId.get(run[0])!.pending -= n;
        if (run[1] === 0) runs.shift();
      }
      if (left > 0) throw new Error(`lane ${lane} acknowledged ${left} records more than were pushed`);
      advance();
    },
    current: () => checkpoint,
  };
}
