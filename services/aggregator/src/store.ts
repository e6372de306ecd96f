import type Database from 'better-sqlite3';
import { CdcError } from '@cdc/core';
import { ReadModelWriter, type WriterOptions } from '@cdc/read-model';
import { LiveBatch, type BatchInput, type BatchResult } from './batch';

/**
 * The aggregator's database: the read model's writer, opened for this process (the only writer:
 * lock.ts), and the batches applied to it. Not a layer on the way of a change: a batch applies
 * its changes and commits through the writer itself (batch.ts); what else the aggregator stores
 * (the offsets of control records, the gold publisher's mark) it writes through `writer`.
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
  openBatch(topic: string): LiveBatch {
    return new LiveBatch(this.writer, topic);
  }

  /**
   * Applies partitions' batches of one topic in one transaction (records below a partition's
   * stored offset are ignored); on failure nothing of them is kept.
   */
  applyBatch(...inputs: BatchInput[]): BatchResult {
    const topic = inputs[0]?.topic;
    if (topic === undefined)
      throw new CdcError('INTERNAL', 'aggregator store: applyBatch takes one batch at least');
    const batch = this.openBatch(topic);
    try {
      batch.apply(inputs);
      return batch.commit();
    } catch (err) {
      batch.abandon();
      throw err;
    }
  }

  close(): void {
    this.writer.close();
  }
}
