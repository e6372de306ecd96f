import type { EnrichedBookingChange } from '@cdc/core';
import { BatchApplier, type BatchDelta } from './apply';
import type { MovieKpiRow } from './kpi';
import type { AggregatorStore } from './store';

/**
 * One partition's batch in the making. Changes are applied in memory as they are added (through
 * the store's read-through caches, outside any transaction: this process is the only writer);
 * `commit` writes the net result and the new offset in one transaction. A batch that is not
 * committed must be abandoned: the in-memory movie states it touched are dropped.
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

export interface PartitionOffset {
  topic: string;
  partition: number;
  nextOffset: number;
}

export interface BatchCommit {
  topic: string;
  partition: number;
  storedAtOpen: number;
  nextOffset: number;
  firstOffset: number;
  delta: BatchDelta;
  undecodable: number;
  alreadyApplied: number;
  started: number;
  startedAt: number;
}

export class OpenBatch {
  private readonly applier: BatchApplier;
  private readonly stored: number;
  private readonly started = performance.now();
  private readonly startedAt = Date.now();
  private undecodable = 0;
  private alreadyApplied = 0;
  private firstOffset = -1;
  private closed = false;

  constructor(
    private readonly store: AggregatorStore,
    readonly topic: string,
    readonly partition: number,
  ) {
    this.stored = store.storedOffset(topic, partition);
    this.applier = new BatchApplier(store.source);
  }

  /** Adds one record (null: it could not be decoded). Records below the stored offset are ignored. */
  add(offset: number, change: EnrichedBookingChange | null): void {
    if (offset < this.stored) {
      this.alreadyApplied += 1;
      return;
    }
    if (this.firstOffset < 0) this.firstOffset = offset;
    if (change === null) this.undecodable += 1;
    else this.applier.apply(change);
  }

  commit(nextOffset: number): BatchResult {
    if (this.closed) throw new Error('batch already committed or abandoned');
    this.closed = true;
    return this.store.commitBatch({
      topic: this.topic,
      partition: this.partition,
      storedAtOpen: this.stored,
      nextOffset,
      firstOffset: this.firstOffset,
      delta: this.applier.finish(),
      undecodable: this.undecodable,
      alreadyApplied: this.alreadyApplied,
      started: this.started,
      startedAt: this.startedAt,
    });
  }

  /** Gives the batch up (not committed): the store forgets the states it touched. */
  abandon(): void {
    if (this.closed) return;
    this.closed = true;
    this.store.dropCaches();
  }
}
