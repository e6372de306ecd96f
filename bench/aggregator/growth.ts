import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { errorMessage } from '@cdc/core';
import { AggregatorStore } from '@cdc/aggregator';
import { changeStream, enrich } from '@cdc/testing';

/**
 * The live aggregator's SQLite cost per change as its bookings table grows, offline (no broker):
 * BENCH_GROWTH_CHANGES (1,000,000) changes of a mostly-creating stream (seed 42, 50 movies as the
 * sample producer: 70 % creates, 15 % cancels, 10 % updates, 5 % deletes, so the table grows by
 * ~650,000 bookings) applied through the store in transactions of BENCH_GROWTH_TXN (20,000: a
 * fetch of a backlog), on a fresh file database with the default booking cache (250,000 rows).
 * One JSON line per 200,000 changes: the process CPU per change over them and the file's size.
 * The changes are generated outside the timed part, one transaction's worth at a time.
 */
const CHANGES = Number(process.env.BENCH_GROWTH_CHANGES ?? 1_000_000);
const TXN = Number(process.env.BENCH_GROWTH_TXN ?? 20_000);
const STEP = 200_000;

function main(): void {
  const next = changeStream({
    seed: 42,
    liveBookings: 5_000_000,
    movies: 50,
    mix: { create: 70, cancel: 15, update: 10, delete: 5 },
    dirtyRatio: 0,
  });
  const dir = mkdtempSync(path.join(tmpdir(), 'cdc-bench-growth-'));
  const file = path.join(dir, 'aggregator.db');
  try {
    const store = AggregatorStore.open(file);
    let cpuUs = 0;
    for (let offset = 0; offset < CHANGES; offset += TXN) {
      const records = Array.from({ length: TXN }, (_, j) => ({
        offset: offset + j,
        change: enrich(next(), { enrichedAtMs: 0 }),
      }));
      const c0 = process.cpuUsage();
      store.applyBatch({ topic: 'silver', partition: 0, records, nextOffset: offset + TXN });
      const c = process.cpuUsage(c0);
      cpuUs += c.user + c.system;
      const done = offset + TXN;
      if (done % STEP === 0) {
        const result = {
          benchmark: 'aggregator-growth',
          changes_applied: done,
          cpu_us_per_change: Number((cpuUs / STEP).toFixed(1)),
          db_mb: Math.round(statSync(file).size / 1e6),
          conditions: `offline, file database, ${TXN} changes per transaction, default booking cache`,
        };
        process.stdout.write(`${JSON.stringify(result)}\n`);
        cpuUs = 0;
      }
    }
    store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

try {
  main();
} catch (err) {
  process.stderr.write(`bench failed: ${errorMessage(err)}\n`);
  process.exitCode = 1;
}
