import { Counter, Gauge, Histogram } from 'prom-client';
import { createMetricsRegistry } from '@cdc/observe';
import type { ConnectorWatchMetrics } from './connector-watch';

/** The capture stage's Prometheus metrics (`/metrics`), `cdc_capture_…` like every stage's (docs/metrics.md). */
export class CaptureMetrics implements ConnectorWatchMetrics {
  readonly registry = createMetricsRegistry('capture');
  readonly changes = new Counter({
    name: 'cdc_capture_changes_total',
    help: 'Row changes written to bronze, by op',
    labelNames: ['op'] as const,
    registers: [this.registry],
  });
  readonly skipped = new Counter({
    name: 'cdc_capture_skipped_total',
    help: 'Source records that are no row change (truncate: a TRUNCATE, not applied; not-a-change: tombstones)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly deadLetters = new Counter({
    name: 'cdc_capture_dead_letters_total',
    help: 'Source records that could not become a BookingChange (sent to the dead-letter topic)',
    registers: [this.registry],
  });
  readonly transactionSeconds = new Histogram({
    name: 'cdc_capture_transaction_seconds',
    help: 'Duration of one Kafka transaction (bronze records and source offsets)',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly failedBatches = new Counter({
    name: 'cdc_capture_failed_batches_total',
    help: 'Batches whose transaction failed (read again from the last committed offset)',
    registers: [this.registry],
  });
  readonly connectorRestarts = new Counter({
    name: 'cdc_capture_connector_restarts_total',
    help: 'Restarts of the Debezium connector or its task after Kafka Connect reported it FAILED',
    registers: [this.registry],
  });
  readonly connectorRunning = new Gauge({
    name: 'cdc_capture_connector_active',
    help: 'Whether the Debezium connector and its tasks run: 1 yes, 0 no (failed, paused, missing); absent while Connect is unreachable',
    registers: [this.registry],
  });

  restarted(): void {
    this.connectorRestarts.inc();
  }

  state(up: boolean | null): void {
    if (up === null) this.connectorRunning.reset();
    else this.connectorRunning.set(up ? 1 : 0);
  }
}
