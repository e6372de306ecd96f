import type { Producer } from 'kafkajs';
import { errorMessage, type Encoder, type Logger, type MovieKpis } from '@cdc/core';
import { goldValue, type MovieKpiRow, type ReadModelWriter } from '@cdc/read-model';
import type { AggregatorMetrics } from './metrics';

/**
 * Publishes MovieKpis snapshots (key movie_key) to the compacted gold topic after each committed
 * batch. SQLite remembers the last snapshot_version known to be published: after a crash between
 * the SQLite commit and the send, or a failed send, everything changed since is republished from
 * the database, so no snapshot is lost (a consumer may see one twice, with the same version).
 * Publishes are serialized.
 */
const SEND_CHUNK = 2000;

/** What the publisher needs of the writer: the unpublished rows, and marking them published. */
export type SnapshotLedger = Pick<ReadModelWriter, 'pendingSnapshots' | 'markPublished'>;

export class GoldPublisher {
  private chain: Promise<void> = Promise.resolve();
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

  /** Publishes a batch's changed movies (or the whole backlog, when there is one). Never throws. */
  publish(rows: MovieKpiRow[]): Promise<void> {
    if (rows.length === 0 && !this.backlog) return this.chain;
    this.chain = this.chain.then(() => this.run(rows));
    return this.chain;
  }

  /** Publishes whatever the database holds beyond the published mark. Never throws. */
  flush(): Promise<void> {
    return this.publish([]);
  }

  private async run(rows: MovieKpiRow[]): Promise<void> {
    const fromDb = this.backlog;
    const snapshot = fromDb ? this.store.pendingSnapshots() : rows;
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
        this.store.markPublished(Math.max(...chunk.map((r) => r.snapshot_version)));
      }
      this.backlog = false;
      this.metrics.pendingSnapshots.set(0);
      if (fromDb && snapshot.length > 0) {
        this.logger.info({ snapshots: snapshot.length }, 'republished pending gold snapshots');
      }
    } catch (err) {
      if (!this.backlog) this.logger.warn({ err: errorMessage(err) }, 'gold publish failed; will retry');
      this.backlog = true;
      this.metrics.publishFailures.inc();
    }
  }
}
