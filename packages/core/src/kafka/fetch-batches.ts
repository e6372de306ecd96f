import type { Consumer, EachBatchPayload } from 'kafkajs';
import type { Decoder } from '../codec/codec';
import { DecodeError } from '../errors';

// kafkajs types the services still name (they import no kafkajs themselves).
export type { Consumer, Producer, ProducerRecord, RecordMetadata } from 'kafkajs';

/**
 * Fetch-grouped consumption: the partition batches of one kafkajs fetch go into one batch of the
 * service's (a `FetchGroupBatch`: the aggregator's is one SQLite transaction), committed as soon
 * as the fetch's last batch is in. kafkajs calls eachBatch once per partition of a fetch, one
 * after another; a transaction per call cost the aggregator a WAL commit per partition (the
 * largest item of its profile). The consumer's FETCH event says how many batches of the fetch
 * reach eachBatch (a kafkajs patch, patches/kafkajs+2.2.4.patch: the non-empty ones; kafkajs
 * itself reported 0), so the group is committed once the last one is in — never on a timer: at a
 * trickle a fetch holds one small batch and is committed at once.
 *
 * kafkajs offsets are resolved only after the group's commit: a group that is abandoned (a
 * rebalance, a stop, a failed commit) leaves kafkajs at the last committed offsets, and the
 * records are fetched again. The service keeps its offsets itself (with its batches), so on every
 * assignment the consumer seeks to them.
 *
 * `FetchBatches` is the grouping (no Kafka client: the unit tests drive it directly);
 * `FetchGroupedConsumer` is the consumer loop around it.
 */
export interface FetchGroupBatch<T, R> {
  /** True when the batch already holds records of `partition` (a part is started once per batch). */
  has(partition: number): boolean;
  /** Adds one record of `partition` (its value as decoded; null when it could not be decoded). */
  add(partition: number, offset: number, value: T): void;
  /** Ends a partition's part: `nextOffset` is the offset to read next (its last offset + 1). */
  end(partition: number, nextOffset: number): void;
  /** Commits the batch, every partition's records and next offset together; throws if it fails. */
  commit(): R;
  /** Gives the batch up (nothing of it is kept); called after a failed `commit` too. */
  abandon(): void;
}

export interface FetchBatchesOptions<T, R> {
  /** Opens the next group's batch. */
  open(): FetchGroupBatch<T, R>;
  /** After each commit: its result and the high watermark of each partition it covered. */
  onCommitted(result: R, highWatermarks: ReadonlyMap<number, number>): void;
}

export class FetchBatches<T, R> {
  /** Batches announced by fetches and not handed over yet. */
  private announced = 0;
  private open: FetchGroupBatch<T, R> | undefined;
  private resolves: (() => void)[] = [];
  private readonly highWatermarks = new Map<number, number>();

  constructor(private readonly options: FetchBatchesOptions<T, R>) {}

  /** A fetch returned: `batches` of it will be handed over (the FETCH event's numberOfBatches). */
  fetched(batches: number): void {
    this.announced += batches;
  }

  /** True while `batch` is the group's batch (not committed or abandoned meanwhile). */
  isOpen(batch: FetchGroupBatch<T, R>): boolean {
    return this.open === batch;
  }

  /**
   * The batch a partition's records go to. A partition already in it (a fetch holds a partition
   * once, so only when fetches overlap) commits the group first.
   */
  begin(partition: number): FetchGroupBatch<T, R> {
    if (this.open?.has(partition)) this.commit();
    this.open ??= this.options.open();
    return this.open;
  }

  /**
   * Ends a partition's part of `batch` (from `begin`; nothing happens if the group was abandoned
   * meanwhile): `resolve` (kafkajs's resolveOffset) is called once it is committed.
   * Commits the group when no announced batch is still to come. Throws when the commit fails
   * (the group is abandoned then: nothing of it is kept, nothing resolved).
   */
  end(
    batch: FetchGroupBatch<T, R>,
    partition: number,
    nextOffset: number,
    highWatermark: number,
    resolve: () => void,
  ): R | undefined {
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
  commit(): R | undefined {
    const open = this.open;
    if (open === undefined) return undefined;
    const resolves = this.resolves;
    const highWatermarks = new Map(this.highWatermarks);
    this.clear();
    let result: R;
    try {
      result = open.commit();
    } catch (err) {
      open.abandon();
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
  fetchStarting(): R | undefined {
    this.announced = 0;
    return this.commit();
  }

  /** Gives up the open group. */
  abandon(): void {
    const open = this.open;
    this.clear();
    open?.abandon();
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

export interface FetchGroupedConsumerOptions<T, R> extends FetchBatchesOptions<T | null, R> {
  topic: string;
  /** Decodes each record's value (Avro through the registry). */
  decoder: Decoder<T>;
  /**
   * A record that cannot be decoded (bad data, `DecodeError`): it goes to the batch as null (its
   * offset is consumed); `nth` counts them in the partition's batch from 0 (to log a few). A
   * registry that does not answer is no such record: eachBatch throws and kafkajs fetches the
   * records again.
   */
  onUndecodable(err: DecodeError, partition: number, offset: string, nth: number): void;
  /**
   * A new generation's partitions of `topic`: the offset to read next of each (the service keeps
   * its offsets itself); the consumer seeks there, before the generation's first fetch.
   */
  positions(partitions: number[]): Map<number, number>;
  /**
   * A fetch of a partition held only control records (transaction markers) or aborted messages:
   * no eachBatch call, but the offset to read next moved on.
   */
  onControlRecords(partition: number, nextOffset: number): void;
  /** A commit at the start of a fetch failed: the group was abandoned (its records are read again). */
  onCommitFailed(err: unknown): void;
}

/**
 * The consumer loop around `FetchBatches`: kafkajs's events drive the grouping (FETCH announces,
 * FETCH_START commits what is left, GROUP_JOIN starts a generation afresh and seeks), and
 * eachBatch decodes a partition's records into the group's batch. Offsets are resolved (never
 * auto-committed) after the group's commit; Kafka commits, if the service wants them (for lag
 * monitoring), are its own.
 */
export class FetchGroupedConsumer<T, R> {
  readonly batches: FetchBatches<T | null, R>;

  constructor(
    private readonly consumer: Consumer,
    private readonly o: FetchGroupedConsumerOptions<T, R>,
  ) {
    this.batches = new FetchBatches(o);
    const { events } = consumer;
    consumer.on(events.GROUP_JOIN, (e) => {
      // Synchronous: the seeks are in place before the first fetch of this generation.
      this.batches.reset();
      const partitions = e.payload.memberAssignment[o.topic] ?? [];
      const positions = o.positions(partitions);
      for (const partition of partitions) {
        consumer.seek({ topic: o.topic, partition, offset: String(positions.get(partition) ?? 0) });
      }
    });
    consumer.on(events.FETCH, (e) => this.batches.fetched(e.payload.numberOfBatches));
    consumer.on(events.FETCH_START, () => {
      // Batches still grouped when the next fetch starts (announced ones never came): committed
      // now, before kafkajs picks the offsets to fetch.
      try {
        this.batches.fetchStarting();
      } catch (err) {
        // Abandoned: kafkajs fetches those records again from the last resolved offsets.
        o.onCommitFailed(err);
      }
    });
    consumer.on(events.END_BATCH_PROCESS, (e) => {
      // A fetch holding only control records or aborted messages never reaches eachBatch.
      if (e.payload.batchSize === 0 && e.payload.topic === o.topic) {
        o.onControlRecords(e.payload.partition, Number(e.payload.lastOffset) + 1);
      }
    });
  }

  /** Runs the consumer (connected and subscribed to the topic); resolves once it runs. */
  run(): Promise<void> {
    return this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: (payload) => this.eachBatch(payload),
    });
  }

  /** Gives up the open group (after the consumer stopped: a group a stop cut short is read again). */
  reset(): void {
    this.batches.reset();
  }

  /**
   * Decodes one partition's fetched records into the group's batch, which commits once the
   * fetch's last batch is in (`FetchBatches.end`: a failed commit throws, having abandoned it).
   */
  private async eachBatch(payload: EachBatchPayload): Promise<void> {
    // kafkajs builds these as closures over the batch, not as methods: destructuring them is safe.
    // eslint-disable-next-line @typescript-eslint/unbound-method
    const { batch, resolveOffset, heartbeat, isRunning, isStale } = payload;
    const batches = this.batches;
    if (!isRunning() || isStale()) {
      batches.skipped();
      return;
    }
    const { decoder } = this.o;
    const partition = batch.partition;
    const open = batches.begin(partition);
    let undecodable = 0;
    try {
      for (const m of batch.messages) {
        let value: T | null;
        try {
          value = decoder.decodeKnown(m.value) ?? (await decoder.decode(m.value));
        } catch (err) {
          if (!(err instanceof DecodeError)) throw err; // registry unreachable: retried, never skipped
          value = null;
          this.o.onUndecodable(err, partition, m.offset, undecodable++);
        }
        if (!batches.isOpen(open)) return; // abandoned during a decode's wait (a rejoin)
        open.add(partition, Number(m.offset), value);
      }
    } catch (err) {
      batches.abandon();
      throw err;
    }
    batches.end(open, partition, Number(batch.lastOffset()) + 1, Number(batch.highWatermark), () =>
      resolveOffset(batch.lastOffset()),
    );
    await heartbeat();
  }
}
