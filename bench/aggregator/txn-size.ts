import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { errorMessage } from '@cdc/core';
import { AggregatorStore } from '@cdc/aggregator';
import { changeStream, enrich, withDisorder } from '@cdc/testing';

/**
 * The live aggregator's SQLite cost per change against the size of its transactions, offline (no
 * broker): the apply bench's stream (seed 42, up to 50,000 live bookings, 200 movies, 10 %
 * re-deliveries) applied through the store in transactions of BENCH_TXN_SIZES records (a comma
 * list, default 500 and 1500: at 20,000 events/s a fetch brings ~500 per partition, and a fetch's
 * three partitions in one transaction make 1,500), with the writer's booking-id filter on and off
 * (BENCH_TXN_FILTER: both, on or off; default both), alternately, BENCH_TXN_ROUNDS times (2), each
 * on a fresh file database. Reports the process CPU per change.
 */
const EVENTS = Number(process.env.BENCH_EVENTS ?? 200_000);
const sizes = (process.env.BENCH_TXN_SIZES ?? '500,1500').split(',').map(Number);
const rounds = Number(process.env.BENCH_TXN_ROUNDS ?? 2);
const filterSetting = process.env.BENCH_TXN_FILTER ?? 'both';
const filters = filterSetting === 'both' ? [true, false] : [filterSetting === 'on'];

function main(): void {
  const next = withDisorder(
    changeStream({
      seed: 42,
      liveBookings: 50_000,
      movies: 200,
      mix: { create: 25, cancel: 25, update: 40, delete: 10 },
      dirtyRatio: 0.05,
    }),
    { seed: 43, redeliveryRate: 0.1 },
  );
  const changes = Array.from({ length: EVENTS }, () => enrich(next(), { enrichedAtMs: 0 }));
  const variants = sizes.flatMap((size) => filters.map((bookingFilter) => ({ size, bookingFilter })));
  const runs = new Map<(typeof variants)[number], number[]>(variants.map((v) => [v, []]));
  for (let r = 0; r < rounds; r++) {
    for (const variant of variants) {
      const { size, bookingFilter } = variant;
      const dir = mkdtempSync(path.join(tmpdir(), 'cdc-bench-txn-'));
      try {
        const store = AggregatorStore.open(path.join(dir, 'aggregator.db'), { bookingFilter });
        const c0 = process.cpuUsage();
        for (let i = 0; i < EVENTS; i += size) {
          const slice = changes.slice(i, i + size);
          store.applyBatch({
            topic: 'silver',
            partition: 0,
            records: slice.map((change, j) => ({ offset: i + j, change })),
            nextOffset: i + slice.length,
          });
        }
        const c = process.cpuUsage(c0);
        store.close();
        runs.get(variant)!.push((c.user + c.system) / EVENTS);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  for (const [{ size, bookingFilter }, us] of runs) {
    const result = {
      benchmark: 'aggregator-transaction-size',
      records_per_transaction: size,
      booking_filter: bookingFilter,
      changes: EVENTS,
      cpu_us_per_change: us.map((u) => Number(u.toFixed(1))),
      conditions: 'offline, file database, one process (the changes are generated before timing)',
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  }
}

try {
  main();
} catch (err) {
  process.stderr.write(`bench failed: ${errorMessage(err)}\n`);
  process.exitCode = 1;
}
