import { CdcError, type EnrichedBookingChange } from '@cdc/core';
import type { MovieKpiRow, StateSource } from '@cdc/read-model';
import { BatchApplier, type BatchDelta } from './apply';

/**
 * A batch in the making: the fetched records of one or more partitions of a topic (all the
 * partitions of one kafkajs fetch, see fetch-group.ts), applied in memory as they are added
 * (reading stored state through the writer's caches, outside any transaction: this process is the
 * only writer), and `close` hands the net result to the store, which commits it — every partition's
 * changes and offsets — in one transaction (store.ts). One applier serves all the partitions, so a
 * booking or movie met in several of them is read once and its newest state is what is written.
 * A batch only accumulates; it never writes. One that is not committed must be abandoned through
 * the store, which then drops the movie states it touched.
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
  /** The stored next offset of every partition of the batch. */
  partitions: { partition: number; nextOffset: number }[];
}

/** One partition's part of a batch. */
export interface BatchPart {
  partition: number;
  /** The stored offset when the part was opened. */
  openedAtOffset: number;
  /** Next offset to read after the part. */
  nextOffset: number;
  /** The first offset applied, -1 when none. */
  firstOffset: number;
}

/** A batch's net result, for the store to commit. */
export interface ClosedBatch {
  topic: string;
  parts: BatchPart[];
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
  private readonly parts = new Map<number, BatchPart & { ended: boolean }>();
  private undecodable = 0;
  private alreadyApplied = 0;
  private records = 0;
  private closed = false;

  constructor(
    source: StateSource,
    readonly topic: string,
    /** A partition's stored offset: records below it were applied by an earlier batch. */
    private readonly storedOffset: (partition: number) => number,
  ) {
    this.applier = new BatchApplier(source);
  }

  /** Partitions with a part in this batch. */
  get partitions(): number[] {
    return [...this.parts.keys()];
  }

  /** Records added so far (all partitions). */
  get size(): number {
    return this.records;
  }

  /** True when the batch already holds records of `partition` (a part is started once per batch). */
  has(partition: number): boolean {
    return this.parts.has(partition);
  }

  /**
   * Adds one record of `partition` (null: it could not be decoded). Records below the
   * partition's stored offset are ignored.
   */
  add(partition: number, offset: number, change: EnrichedBookingChange | null): void {
    const part = this.part(partition);
    if (part.ended) throw this.error(`part of ${this.topic}/${partition} already ended`);
    this.records += 1;
    if (offset < part.openedAtOffset) {
      this.alreadyApplied += 1;
      return;
    }
    if (part.firstOffset < 0) part.firstOffset = offset;
    if (change === null) this.undecodable += 1;
    else this.applier.apply(change);
  }

  /** Ends a partition's part: nothing more of it can be added; `nextOffset` is stored with the batch. */
  end(partition: number, nextOffset: number): void {
    const part = this.part(partition);
    if (part.ended) throw this.error(`part of ${this.topic}/${partition} already ended`);
    part.ended = true;
    part.nextOffset = nextOffset;
  }

  /** Ends the batch (every part must be ended): its net result, for the store to commit. */
  close(): ClosedBatch {
    if (this.closed) throw this.error(`batch of ${this.topic} already closed`);
    const open = [...this.parts.values()].filter((p) => !p.ended).map((p) => p.partition);
    if (open.length > 0) throw this.error(`batch of ${this.topic}: partitions ${open.join(', ')} not ended`);
    this.closed = true;
    return {
      topic: this.topic,
      parts: [...this.parts.values()].map(({ partition, openedAtOffset, nextOffset, firstOffset }) => ({
        partition,
        openedAtOffset,
        nextOffset,
        firstOffset,
      })),
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

  private part(partition: number): BatchPart & { ended: boolean } {
    if (this.closed) throw this.error(`batch of ${this.topic} already closed`);
    let part = this.parts.get(partition);
    if (part === undefined) {
      const stored = this.storedOffset(partition);
      part = { partition, openedAtOffset: stored, nextOffset: stored, firstOffset: -1, ended: false };
      this.parts.set(partition, part);
    }
    return part;
  }

  private error(message: string): CdcError {
    return new CdcError('BATCH_CLOSED', message);
  }
}
