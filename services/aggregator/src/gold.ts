import { type Encoder, type Logger, type MovieKpis, type Producer } from '@cdc/core';
import { goldValue, type MovieKpiRow, type ReadModelWriter } from '@cdc/read-model';
import type { AggregatorMetrics } from './metrics';

/**
 * Publishes MovieKpis snapshots (key movie_key) to the compacted gold topic after each committed
 * batch. SQLite remembers the last snapshot_version known to be published: after a crash between
 * the SQLite commit and the send, or a failed send, everything changed since is republished from
 * the database, so no snapshot is lost (a consumer may see one twice, with the same version).
 *
 * One send at a time. Rows handed over while a send is in flight wait for it and are coalesced
 * per movie (only its newest snapshot is sent: the topic is compacted and each snapshot is the
 * movie's whole state), so the aggregator never waits for gold between batches and a slow send
 * costs one larger send, not a queue of them.
 */
const SEND_CHUNK = 2000;

/** What the publisher needs of the writer: the unpublished rows, and marking them published. */
export type SnapshotLedger = Pick<ReadModelWriter, 'pendingSnapshots' | 'markPublished'>;

export class GoldPublisher {
  /** The running drain (sends until nothing is pending), or null when idle. */
  private draining: Promise<void> | null = null;
  /** Rows not sent yet, newest per movie. */
  private readonly pending = new Map<string, MovieKpiRow>();
  /** True when the database may hold snapshots not yet published (start, or after a failure). */
  private backlog = true;

  constructor(
    private readonly producer: Producer,
    private readonly encoder: Encoder<MovieKpis>,
    private readonly topic: string,
    private readonly store: SnapshotLedger,
    private readonly metrics: AggregatorMetrics,
    private readonly logger: Logger,
  ) {}

  get hasBacklog(): boolean {
    return this.backlog;
  }

  /**
   * Publishes a batch's changed movies (or the whole backlog, when there is one). Resolves when
   * they are sent or, on a failure, left to the backlog. Never rejects.
   */
  publish(rows: MovieKpiRow[]): Promise<void> {
    for (const r of rows) {
      const had = this.pending.get(r.movie_key);
      if (had === undefined || had.snapshot_version < r.snapshot_version) this.pending.set(r.movie_key, r);
    }
    if (this.pending.size === 0 && !this.backlog) return this.draining ?? Promise.resolve();
    this.draining ??= this.drain().finally(() => {
      this.draining = null;
    });
    return this.draining;
  }

  /** Publishes whatever the database holds beyond the published mark. Never rejects. */
  flush(): Promise<void> {
    return this.publish([]);
  }

  private async drain(): Promise<void> {
    while (this.backlog || this.pending.size > 0) {
      // The backlog is read from the database, which holds the pending rows too.
      const rows = this.backlog ? [] : [...this.pending.values()];
      this.pending.clear();
      await this.run(rows);
      if (this.backlog) return; // failed: the retry timer flushes later
    }
  }

  private async run(rows: MovieKpiRow[]): Promise<void> {
    const fromDb = this.backlog;
    // Ascending versions, so the published mark after each chunk covers only what was sent.
    const snapshot = fromDb
      ? this.store.pendingSnapshots()
      : rows.sort((a, b) => a.snapshot_version - b.snapshot_version);
    this.metrics.pendingSnapshots.set(snapshot.length);
    try {
      for (let i = 0; i < snapshot.length; i += SEND_CHUNK) {
        const chunk = snapshot.slice(i, i + SEND_CHUNK);
        await this.producer.send({
          topic: this.topic,
          acks: -1,
          messages: chunk.map((r) => ({ key: r.movie_key, value: this.encoder.encode(goldValue(r)) })),
        });
        this.metrics.snapshots.inc(chunk.length);
        this.store.markPublished(chunk[chunk.length - 1]!.snapshot_version);
      }
      this.backlog = false;
      this.metrics.pendingSnapshots.set(0);
      if (fromDb && snapshot.length > 0) {
        this.logger.info({ snapshots: snapshot.length }, 'republished pending gold snapshots');
      }
    } catch (err) {
      if (!this.backlog) this.logger.warn({ err }, 'gold publish failed; will retry');
      this.backlog = true;
      this.metrics.publishFailures.inc();
    }
  }
}
