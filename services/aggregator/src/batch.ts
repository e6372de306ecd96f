import { CdcError, type EnrichedBookingChange, type FetchGroupBatch } from '@cdc/core';
import type { MovieKpiRow, ReadModelWriter } from '@cdc/read-model';
import { BatchApplier } from './live-rows';

/**
 * One batch of the live aggregator: the fetched records of one or more partitions of a topic (all
 * the partitions of one kafkajs fetch: core's kafka/fetch-batches.ts), applied in memory as they
 * are added (one applier over the live rows, live-rows.ts: a booking or movie met in several
 * partitions is read once and its newest state is what is written), then committed through the
 * read model's writer — every partition's changes and next offset, and a history row — in one
 * SQLite transaction. Records below a partition's stored offset (applied by an earlier batch) are
 * ignored, and the commit fails if a stored offset moved meanwhile, so a re-delivery never
 * double-counts. A batch that is not committed must be abandoned: the movie states it touched in
 * the writer's caches are dropped.
 */
export interface BatchRecord {
  offset: number;
  /** null when the record could not be decoded: its offset is consumed, nothing is applied. */
  change: EnrichedBookingChange | null;
}

/** One partition's records, for `LiveBatch.apply` (tests and benchmarks apply whole batches). */
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
interface BatchPart {
  partition: number;
  /** The stored offset when the part was opened. */
  openedAtOffset: number;
  /** Next offset to read after the part. */
  nextOffset: number;
  /** The first offset applied, -1 when none. */
  firstOffset: number;
  ended: boolean;
}

export class LiveBatch implements FetchGroupBatch<EnrichedBookingChange | null, BatchResult> {
  private readonly applier: BatchApplier;
  private readonly started = performance.now();
  private readonly startedAt = Date.now();
  private readonly parts = new Map<number, BatchPart>();
  private undecodable = 0;
  private alreadyApplied = 0;
  private records = 0;
  private closed = false;

  constructor(
    private readonly writer: ReadModelWriter,
    readonly topic: string,
  ) {
    this.applier = new BatchApplier(writer.source);
  }

  /** Partitions with a part in this batch. */
  get partitions(): number[] {
    return [...this.parts.keys()];
  }

  /** Records added so far (all partitions). */
  get size(): number {
    return this.records;
  }

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

  /** Adds whole partitions' records and ends their parts. */
  apply(inputs: readonly BatchInput[]): void {
    for (const input of inputs) {
      if (input.topic !== this.topic) {
        throw new CdcError(
          'INTERNAL',
          `aggregator batch: a batch of ${this.topic} takes no records of ${input.topic}`,
        );
      }
      for (const r of input.records) this.add(input.partition, r.offset, r.change);
      this.end(input.partition, input.nextOffset);
    }
  }

  /**
   * Commits the batch (every part must be ended) in one transaction; on failure nothing of it is
   * kept (the writer drops its caches).
   */
  commit(): BatchResult {
    if (this.closed) throw this.error(`batch of ${this.topic} already closed`);
    const open = [...this.parts.values()].filter((p) => !p.ended).map((p) => p.partition);
    if (open.length > 0) throw this.error(`batch of ${this.topic}: partitions ${open.join(', ')} not ended`);
    this.closed = true;
    try {
      return this.write();
    } catch (err) {
      // `abandon` is a no-op once closed: the movie states this batch touched are dropped here
      // (the writer drops its own on a failed transaction; not if the applier's finish threw).
      this.writer.dropCaches();
      throw err;
    }
  }

  private write(): BatchResult {
    const d = this.applier.finish();
    const changes = d.applied + d.skipped + d.malformed + this.undecodable;
    const written = this.writer.commitBatch({
      topic: this.topic,
      parts: [...this.parts.values()].map(({ partition, openedAtOffset, nextOffset, firstOffset }) => ({
        partition,
        openedAtOffset,
        nextOffset,
        firstOffset,
      })),
      delta: d,
      changes,
      applied: d.applied,
      skipped: d.skipped,
      rederived: d.rederived,
      startedAt: this.startedAt,
      started: this.started,
    });
    return {
      batchId: written.batchId,
      changes,
      applied: d.applied,
      rederived: d.rederived,
      skipped: d.skipped,
      malformed: d.malformed,
      undecodable: this.undecodable,
      alreadyApplied: this.alreadyApplied,
      durationMs: written.durationMs,
      maxEventTsMs: d.maxEventTsMs,
      movies: written.movies,
      partitions: written.partitions,
    };
  }

  /** Gives the batch up, if it was not committed: the movie states it touched are dropped. */
  abandon(): void {
    if (this.closed) return;
    this.closed = true;
    this.writer.dropCaches();
  }

  private part(partition: number): BatchPart {
    if (this.closed) throw this.error(`batch of ${this.topic} already closed`);
    let part = this.parts.get(partition);
    if (part === undefined) {
      const stored = this.writer.storedOffset(this.topic, partition);
      part = { partition, openedAtOffset: stored, nextOffset: stored, firstOffset: -1, ended: false };
      this.parts.set(partition, part);
    }
    return part;
  }

  private error(message: string): CdcError {
    return new CdcError('INTERNAL', `aggregator batch: ${message}`);
  }
}
