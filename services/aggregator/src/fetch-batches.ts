import type { BatchResult, OpenBatch } from './batch';
import type { AggregatorStore } from './store';

/**
 * Groups the partition batches of a kafkajs fetch into one SQLite transaction. kafkajs calls
 * eachBatch once per partition of a fetch, one after another; a transaction per call cost a WAL
 * commit per partition (the largest item of the aggregator's profile). The consumer's FETCH
 * event says how many batches of the fetch reach eachBatch (kafkajs patch: the non-empty ones),
 * so the batch is committed as soon as the fetch's last one is in — never on a timer: at a
 * trickle a fetch holds one small batch and is committed at once, as before.
 *
 * Movie states are shared across partitions (a movie's bookings are spread over them), so one
 * in-memory batch (batch.ts) takes every partition of the group and the group commits, with each
 * partition's offset, in one transaction. kafkajs offsets are resolved only after that commit: a
 * group that is abandoned (a rebalance, a failure) leaves kafkajs at the last committed offsets
 * too, and the records are fetched again.
 */
export type FetchBatchStore = Pick<AggregatorStore, 'openBatch' | 'commit' | 'abandon'>;

export interface FetchBatchesOptions {
  store: FetchBatchStore;
  topic: string;
  /** After each commit: its result and the high watermark of each partition it covered. */
  onCommitted(result: BatchResult, highWatermarks: ReadonlyMap<number, number>): void;
}

export class FetchBatches {
  /** Batches announced by fetches and not handed over yet. */
  private announced = 0;
  private open: OpenBatch | undefined;
  private resolves: (() => void)[] = [];
  private readonly highWatermarks = new Map<number, number>();

  constructor(private readonly options: FetchBatchesOptions) {}

  /** A fetch returned: `batches` of it will be handed over (the FETCH event's numberOfBatches). */
  fetched(batches: number): void {
    this.announced += batches;
  }

  /** True while `batch` is the group's batch (not committed or abandoned meanwhile). */
  isOpen(batch: OpenBatch): boolean {
    return this.open === batch;
  }

  /**
   * The in-memory batch a partition's records go to. A partition already in it (a fetch holds a
   * partition once, so only when fetches overlap) commits the group first.
   */
  begin(partition: number): OpenBatch {
    if (this.open?.has(partition)) this.commit();
    this.open ??= this.options.store.openBatch(this.options.topic);
    return this.open;
  }

  /**
   * Ends a partition's part of `batch` (from `begin`; nothing happens if the group was abandoned
   * meanwhile): `resolve` (kafkajs's resolveOffset) is called once it is committed.
   * Commits the group when no announced batch is still to come. Throws when the commit fails
   * (the group is abandoned then: nothing of it is kept, nothing resolved).
   */
  end(
    batch: OpenBatch,
    partition: number,
    nextOffset: number,
    highWatermark: number,
    resolve: () => void,
  ): BatchResult | undefined {
    const open = this.open;
    if (open === undefined || open !== batch) return undefined; // abandoned meanwhile
    open.end(partition, nextOffset);
    this.resolves.push(resolve);
    this.highWatermarks.set(partition, highWatermark);
    this.handed();
    return this.announced === 0 ? this.commit() : undefined;
  }

  /** A batch handed over but not processed (the consumer is stopping or the generation is stale). */
  skipped(): void {
    this.handed();
    this.abandon();
  }

  /**
   * Commits the group now if one is open (a new fetch starts while batches are still grouped:
   * the announced count was not reached). Throws like `end`.
   */
  commit(): BatchResult | undefined {
    const open = this.open;
    if (open === undefined) return undefined;
    const resolves = this.resolves;
    const highWatermarks = new Map(this.highWatermarks);
    this.clear();
    let result: BatchResult;
    try {
      result = this.options.store.commit(open);
    } catch (err) {
      this.options.store.abandon(open);
      throw err;
    }
    for (const resolve of resolves) resolve();
    this.options.onCommitted(result, highWatermarks);
    return result;
  }

  /**
   * A fetch starts (kafkajs FETCH_START, before it picks the offsets to fetch): a fetcher starts
   * its next fetch only once its previous batches were all handed over, so what is still grouped
   * is committed now (announced batches that never came: fetches of several brokers overlapping,
   * or a batch given up by a failure) and the count starts afresh. Throws like `end`.
   */
  fetchStarting(): BatchResult | undefined {
    this.announced = 0;
    return this.commit();
  }

  /** Gives up the open group (its cached states are dropped). */
  abandon(): void {
    const open = this.open;
    this.clear();
    if (open !== undefined) this.options.store.abandon(open);
  }

  /** Gives up the open group and forgets the announced count (a new generation: a rebalance). */
  reset(): void {
    this.abandon();
    this.announced = 0;
  }

  private handed(): void {
    if (this.announced > 0) this.announced -= 1;
  }

  private clear(): void {
    this.open = undefined;
    this.resolves = [];
    this.highWatermarks.clear();
  }
}
