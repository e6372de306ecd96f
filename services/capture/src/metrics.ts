import { Counter, Histogram, Registry } from 'prom-client';

/** The capture stage's Prometheus metrics (`/metrics`). */
export class CaptureMetrics {
  readonly registry = new Registry();
  readonly changes = new Counter({
    name: 'capture_changes_total',
    help: 'Row changes written to bronze, by op',
    labelNames: ['op'] as const,
    registers: [this.registry],
  });
  readonly skipped = new Counter({
    name: 'capture_skipped_total',
    help: 'Source records that are no row change (truncate: a TRUNCATE, not applied; not-a-change: tombstones)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly deadLetters = new Counter({
    name: 'capture_dead_letters_total',
    help: 'Source records that could not become a BookingChange (sent to the dead-letter topic)',
    registers: [this.registry],
  });
  readonly transactionSeconds = new Histogram({
    name: 'capture_transaction_seconds',
    help: 'Duration of one Kafka transaction (bronze records and source offsets)',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly failedBatches = new Counter({
    name: 'capture_failed_batches_total',
    help: 'Batches whose transaction failed (read again from the last committed offset)',
    registers: [this.registry],
  });
}
