import { Counter, Gauge, Histogram } from 'prom-client';
import { createMetricsRegistry } from '@cdc/observe';
import type { BatchResult } from './batch';

/** The aggregator's Prometheus metrics (served on /metrics). */
export function createAggregatorMetrics() {
  const registry = createMetricsRegistry('aggregator');
  const registers = [registry];
  const m = {
    registry,
    applied: new Counter({
      name: 'cdc_aggregator_changes_applied_total',
      help: 'Changes applied to the KPIs (version advances and re-derivations)',
      registers,
    }),
    rederived: new Counter({
      name: 'cdc_aggregator_changes_rederived_total',
      help: 'Of the applied: re-derivations (same version, newer derivation epoch: no event)',
      registers,
    }),
    skipped: new Counter({
      name: 'cdc_aggregator_changes_skipped_total',
      help: 'Changes not newer than the stored (version, epoch) (duplicates, stale): nothing changed',
      registers,
    }),
    malformed: new Counter({
      name: 'cdc_aggregator_changes_malformed_total',
      help: 'Decoded changes lacking the image their op needs: skipped',
      registers,
    }),
    undecodable: new Counter({
      name: 'cdc_aggregator_records_undecodable_total',
      help: 'Silver records that could not be decoded: logged and skipped',
      registers,
    }),
    redelivered: new Counter({
      name: 'cdc_aggregator_records_already_applied_total',
      help: 'Records below the stored offset (re-delivered after a seek or rebalance): ignored',
      registers,
    }),
    batches: new Counter({
      name: 'cdc_aggregator_batches_total',
      help: 'Batches committed to SQLite (one transaction each: the partitions of a fetch)',
      registers,
    }),
    batchSeconds: new Histogram({
      name: 'cdc_aggregator_batch_duration_seconds',
      help: 'Time to decode, apply and commit one batch (one SQLite transaction)',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    batchSize: new Histogram({
      name: 'cdc_aggregator_batch_records',
      help: 'Records per batch',
      buckets: [1, 10, 100, 500, 1000, 2500, 5000, 10000, 25000],
      registers,
    }),
    consumerLag: new Gauge({
      name: 'cdc_aggregator_consumer_lag_records',
      help: 'Records between the applied offset and the high watermark, per partition',
      labelNames: ['topic', 'partition'],
      registers,
    }),
    endToEndLag: new Gauge({
      name: 'cdc_aggregator_last_batch_event_age_seconds',
      help: 'Commit time minus the event time (ts_ms) of the newest change in the last batch (its last sample of cdc_aggregator_end_to_end_lag_seconds)',
      registers,
    }),
    endToEndLagHist: new Histogram({
      name: 'cdc_aggregator_end_to_end_lag_seconds',
      help: 'End-to-end lag (commit time minus newest event ts_ms) per batch',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    }),
    snapshots: new Counter({
      name: 'cdc_aggregator_snapshots_published_total',
      help: 'MovieKpis snapshots published to gold',
      registers,
    }),
    publishFailures: new Counter({
      name: 'cdc_aggregator_publish_failures_total',
      help: 'Failed gold publishes (retried; nothing is lost)',
      registers,
    }),
    pendingSnapshots: new Gauge({
      name: 'cdc_aggregator_snapshots_pending',
      help: 'Changed movies whose snapshot is not yet published',
      registers,
    }),
  };
  return {
    ...m,
    /** Records one committed batch (one SQLite transaction: the partitions of a fetch). */
    batch(r: BatchResult, topic: string, highWatermarks: ReadonlyMap<number, number>, nowMs: number): void {
      m.applied.inc(r.applied);
      m.skipped.inc(r.skipped);
      if (r.rederived) m.rederived.inc(r.rederived);
      if (r.malformed) m.malformed.inc(r.malformed);
      if (r.undecodable) m.undecodable.inc(r.undecodable);
      if (r.alreadyApplied) m.redelivered.inc(r.alreadyApplied);
      m.batches.inc();
      m.batchSeconds.observe(r.durationMs / 1000);
      m.batchSize.observe(r.changes);
      for (const { partition, nextOffset } of r.partitions) {
        const highWatermark = highWatermarks.get(partition) ?? nextOffset;
        m.consumerLag.set({ topic, partition: String(partition) }, Math.max(0, highWatermark - nextOffset));
      }
      if (r.maxEventTsMs > 0) {
        const lag = Math.max(0, (nowMs - r.maxEventTsMs) / 1000);
        m.endToEndLag.set(lag);
        m.endToEndLagHist.observe(lag);
      }
    },
  };
}

export type AggregatorMetrics = ReturnType<typeof createAggregatorMetrics>;
