import { errorMessage } from '@cdc/core';
import { rebuildDatabase } from '@cdc/aggregator';
import { progress, setUp } from './common';

/**
 * Rebuild throughput: BENCH_EVENTS enriched changes in silver; `rebuildDatabase` consumes them
 * from the earliest offset, applies them in memory, writes the new database and swaps it in.
 */
async function main(): Promise<void> {
  const s = await setUp('rebuild');
  try {
    let lastLog = 0;
    const r = await rebuildDatabase(s.config, s.logger, {
      onProgress: (p) => {
        if (Date.now() - lastLog > 1000 || p.phase !== 'consume') {
          lastLog = Date.now();
          progress(`${p.phase} ${p.offsetsDone}/${p.offsetsTotal} offsets, ${p.changes} changes`);
        }
      },
    });
    const result = {
      benchmark: 'aggregator-rebuild',
      changes: r.changes,
      applied: r.applied,
      skipped: r.skipped,
      partitions: r.partitions,
      bookings: r.bookings,
      movies: r.movies,
      seconds: Number((r.totalMs / 1000).toFixed(3)),
      changes_per_second: Math.round(r.changesPerSecond),
      join_seconds: Number((r.joinMs / 1000).toFixed(3)),
      consume_apply_seconds: Number((r.consumeMs / 1000).toFixed(3)),
      consume_apply_changes_per_second: Math.round(r.changes / ((r.consumeMs - r.joinMs) / 1000)),
      write_seconds: Number((r.writeMs / 1000).toFixed(3)),
      target_changes_per_second: 150_000,
      conditions:
        'from offset 0 to the end offsets, consumer group join included, broker on the same machine',
    };
    progress(`${result.changes_per_second} changes/s over ${result.seconds} s`);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await s.cleanup();
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${errorMessage(err)}\n`);
  process.exitCode = 1;
});
