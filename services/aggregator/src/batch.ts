import { CdcError, type EnrichedBookingChange } from '@cdc/core';
import type { MovieKpiRow, StateSource } from '@cdc/read-model';
import { BatchApplier, type BatchDelta } from './apply';

/**
 * One partition's batch in the making: changes are applied in memory as they are added (reading
 * stored state through the writer's caches, outside any transaction: this process is the only
 * writer), and `close` hands the net result to the store, which commits it (store.ts). A batch
 * only accumulates; it never writes. One that is not committed must be abandoned through the
 * store, which then drops the movie states it touched.
 */
export interface BatchRecord {
  offset: number;
  /** null when the record could not be decoded: its offset is consumed, nothing is applied. */
  change: EnrichedBookingChange | null;
}

export interface BatchInput {
  topic: string;
  partition: number;
  records: BatchRecord[];
  /** Next offset to read after this batch (last offset of the batch, control records included, + 1). */
  nextOffset: number;
}

export interface BatchResult {
  batchId: number;
  changes: number;
  applied: number;
  /** Of the applied: re-derivations (same version, newer derivation epoch). */
  rederived: number;
  skipped: number;
  malformed: number;
  undecodable: number;
  /** Records below the stored offset (already applied by an earlier batch): ignored. */
  alreadyApplied: number;
  durationMs: number;
  maxEventTsMs: number;
  /** Every changed movie's new row, each with its new snapshot_version. */
  movies: MovieKpiRow[];
  nextOffset: number;
}

/** A batch's net result, for the store to commit. */
export interface ClosedBatch {
  topic: string;
  partition: number;
  /** The stored offset when the batch was opened. */
  openedAtOffset: number;
  nextOffset: number;
  /** The first offset applied, -1 when none. */
  firstOffset: number;
  delta: BatchDelta;
  undecodable: number;
  alreadyApplied: number;
  /** `performance.now()` and epoch ms when the batch was opened. */
  started: number;
  startedAt: number;
}

export class OpenBatch {
  private readonly applier: BatchApplier;
  private readonly started = performance.now();
  private readonly startedAt = Date.now();
  private undecodable = 0;
  private alreadyApplied = 0;
  private firstOffset = -1;
  private closed = false;

  constructor(
    source: StateSource,
    readonly topic: string,
    readonly partition: number,
    /** The partition's stored offset: records below it were applied by an earlier batch. */
    readonly openedAtOffset: number,
  ) {
    this.applier = new BatchApplier(source);
  }

  /** Adds one record (null: it could not be decoded). Records below the stored offset are ignored. */
  add(offset: number, change: EnrichedBookingChange | null): void {
    if (offset < this.openedAtOffset) {
      this.alreadyApplied += 1;
      return;
    }
    if (this.firstOffset < 0) this.firstOffset = offset;
    if (change === null) this.undecodable += 1;
    else this.applier.apply(change);
  }

  /** Ends the batch (nothing more can be added): its net result, for the store to commit. */
  close(nextOffset: number): ClosedBatch {
    if (this.closed) {
      throw new CdcError('BATCH_CLOSED', `batch of ${this.topic}/${this.partition} already closed`);
    }
    this.closed = true;
    return {
      topic: this.topic,
      partition: this.partition,
      openedAtOffset: this.openedAtOffset,
      nextOffset,
      firstOffset: this.firstOffset,
      delta: this.applier.finish(),
      undecodable: this.undecodable,
      alreadyApplied: this.alreadyApplied,
      started: this.started,
      startedAt: this.startedAt,
    };
  }

  /** Ends the batch without a result; true when it was still open (its states must be dropped). */
  abandon(): boolean {
    if (this.closed) return false;
    this.closed = true;
    return true;
  }
}
