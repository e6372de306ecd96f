import { errorMessage } from '@cdc/core';
import { startAggregator } from '@cdc/aggregator';
import { endOffsets, progress, setUp } from './common';

/**
 * Live apply throughput: BENCH_EVENTS enriched changes are waiting in silver; the live aggregator
 * (in-process, gold publishing on) starts and applies them. Measured from the partition
 * assignment to the moment its stored offsets reach the end of silver.
 */
async function main(): Promise<void> {
  const s = await setUp('apply');
  try {
    const end = await endOffsets(s);
    const t0 = performance.now();
    const aggregator = await startAggregator(s.config, s.logger);
    let first = 0;
    let done = 0;
    try {
      for (;;) {
        const stored = aggregator.store.storedOffsets(s.topics.silver);
        // Measured from the moment the partitions are assigned (the first fetch is included).
        if (first === 0 && aggregator.health().status === 'running') first = performance.now();
        if ([...end].every(([p, e]) => (stored.get(p) ?? 0) >= e)) {
          done = performance.now();
          break;
        }
        await new Promise((r) => setTimeout(r, 5));
      }
      progress('applied everything; waiting for gold to catch up');
      for (;;) {
        const v = aggregator.store.snapshotVersions;
        if (v.published === v.assigned) break;
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      await aggregator.stop();
    }
    const metrics = await aggregator.metrics.registry.getMetricsAsJSON();
    const value = (name: string) =>
      (metrics.find((m) => m.name === name)?.values as
        { value: number; metricName?: string }[] | undefined) ?? [];
    const count = (name: string) => value(name).reduce((a, v) => a + v.value, 0);
    const batchCount = count('cdc_aggregator_batches_total');
    const applySeconds = value('cdc_aggregator_batch_duration_seconds').find((v) =>
      v.metricName?.endsWith('_sum'),
    )?.value;
    const seconds = (done - first) / 1000;
    const result = {
      benchmark: 'aggregator-live-apply',
      changes: s.events,
      applied: count('cdc_aggregator_changes_applied_total'),
      skipped: count('cdc_aggregator_changes_skipped_total'),
      partitions: s.partitions,
      bookings: s.bookings,
      movies: s.movies,
      batches: batchCount,
      avg_batch_records: Math.round(s.events / Math.max(1, batchCount)),
      seconds: Number(seconds.toFixed(3)),
      changes_per_second: Math.round(s.events / seconds),
      seconds_including_start: Number(((done - t0) / 1000).toFixed(3)),
      decode_apply_commit_seconds: applySeconds === undefined ? null : Number(applySeconds.toFixed(3)),
      gold_snapshots: count('cdc_aggregator_snapshots_published_total'),
      target_changes_per_second: 50_000,
      conditions: 'silver backlog, in-process aggregator, gold on, broker and registry on the same machine',
    };
    progress(`${result.changes_per_second} changes/s over ${result.seconds} s (${batchCount} batches)`);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await s.cleanup();
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${errorMessage(err)}\n`);
  process.exitCode = 1;
});
