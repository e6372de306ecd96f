import type Database from 'better-sqlite3';
import { CdcError } from '@cdc/core';
import { ReadModelWriter, type WriterOptions } from '@cdc/read-model';
import { OpenBatch, type BatchInput, type BatchResult } from './batch';

/**
 * The aggregator's store: batches over the read model's writer. A batch (batch.ts) accumulates
 * changes of one or more partitions in memory; the store commits it — the delta, the partitions'
 * new offsets and a history row in one SQLite transaction (records below the stored offset were ignored by the batch, so a
 * re-delivery never double-counts). The writer holds everything else the aggregator stores
 * (snapshot counters, offsets of control records); its caches are only valid because this
 * process is the only writer (lock.ts).
 */
export class AggregatorStore {
  constructor(readonly writer: ReadModelWriter) {}

  static open(file: string, options: WriterOptions = {}): AggregatorStore {
    return new AggregatorStore(ReadModelWriter.open(file, options));
  }

  get db(): Database.Database {
    return this.writer.db;
  }

  /** Next offset to read per partition of `topic`, as committed with the KPIs. */
  storedOffsets(topic: string): Map<number, number> {
    return this.writer.storedOffsets(topic);
  }

  /** The last snapshot_version assigned, and the last one known to be published to gold. */
  get snapshotVersions(): { assigned: number; published: number } {
    return this.writer.snapshotVersions;
  }

  /**
   * Starts a batch of `topic` (changes are applied in memory as they are added; it may take
   * records of several partitions, committed together).
   */
  openBatch(topic: string): OpenBatch {
    return new OpenBatch(this.writer.source, topic, (partition) =>
      this.writer.storedOffset(topic, partition),
    );
  }

  /** Closes a batch and commits it in one transaction; on failure nothing of it is kept. */
  commit(batch: OpenBatch): BatchResult {
    const c = batch.close();
    const d = c.delta;
    const changes = d.applied + d.skipped + d.malformed + c.undecodable;
    const written = this.writer.commitBatch({
      topic: c.topic,
      parts: c.parts,
      delta: d,
      changes,
      applied: d.applied,
      skipped: d.skipped,
      rederived: d.rederived,
      startedAt: c.startedAt,
      started: c.started,
    });
    return {
      batchId: written.batchId,
      changes,
      applied: d.applied,
      rederived: d.rederived,
      skipped: d.skipped,
      malformed: d.malformed,
      undecodable: c.undecodable,
      alreadyApplied: c.alreadyApplied,
      durationMs: written.durationMs,
      maxEventTsMs: d.maxEventTsMs,
      movies: written.movies,
      partitions: written.partitions,
    };
  }

  /** Gives a batch up (not committed): the movie states it touched in the caches are dropped. */
  abandon(batch: OpenBatch): void {
    if (batch.abandon()) this.writer.dropCaches();
  }

  /**
   * Applies partitions' batches of one topic in one transaction (records below a partition's
   * stored offset are ignored).
   */
  applyBatch(...inputs: BatchInput[]): BatchResult {
    const topic = inputs[0]?.topic;
    if (topic === undefined || inputs.some((i) => i.topic !== topic)) {
      throw new CdcError('INVALID_ARGUMENT', 'applyBatch takes batches of one topic, at least one');
    }
    const batch = this.openBatch(topic);
    try {
      for (const input of inputs) {
        for (const r of input.records) batch.add(input.partition, r.offset, r.change);
        batch.end(input.partition, input.nextOffset);
      }
      return this.commit(batch);
    } catch (err) {
      this.abandon(batch);
      throw err;
    }
  }

  close(): void {
    this.writer.close();
  }
}
