import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { errorMessage } from '@cdc/core';
import { ReadModelWriter } from '@cdc/read-model';
import { progress } from './common';

/**
 * The aggregator's start cost of its booking-id filter (the read model's writer loads every stored
 * booking id into a Bloom filter at open): a database of N bookings (BENCH_START_ROWS, a comma
 * list, default 1,000,000; `BENCH_START_ROWS=1000000,10000000` for both: the larger takes ~1.5 GB of
 * disk and a minute to create; 36-character ids like the producer's UUIDs) is opened
 * with the filter and without it, alternately, BENCH_START_ROUNDS times (default 3). No broker.
 */
const rowCounts = (process.env.BENCH_START_ROWS ?? '1000000').split(',').map(Number);
const rounds = Number(process.env.BENCH_START_ROUNDS ?? 3);

function createDb(file: string, rows: number): void {
  const w = ReadModelWriter.open(file, { bookingFilter: false });
  w.db.exec(`INSERT INTO bookings (booking_id, version, booking_date, booking_date_only, booking_hour,
      day_of_week, status, ticket_count, ticket_price_cents, total_amount_cents, active_revenue_cents,
      lost_revenue_cents, booking_status_category, booking_size_category, price_category, is_valid_booking,
      validation_errors, created_at, updated_at, event_id, event_ts_ms)
    WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ${rows})
    SELECT printf('%08x-0000-4000-8000-%012x', i, i * 7919), 1, 0, '2026-11-29', 12, 1, 'BOOKED', 2, 1200,
      2400, 2400, 0, 'ACTIVE', 'GROUP', 'STANDARD', 1, '[]', 0, 0, 'e', 0 FROM c`);
  w.close();
}

function openMs(file: string, bookingFilter: boolean): { ms: number; heapMiB: number } {
  const heap = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
  const t0 = performance.now();
  const w = ReadModelWriter.open(file, { bookingFilter });
  const ms = performance.now() - t0;
  const grown = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers - heap;
  w.close();
  return { ms, heapMiB: grown / 2 ** 20 };
}

function main(): void {
  const dir = mkdtempSync(path.join(tmpdir(), 'cdc-bench-start-'));
  try {
    for (const rows of rowCounts) {
      const file = path.join(dir, `start-${rows}.db`);
      progress(`creating a database of ${rows} bookings`);
      createDb(file, rows);
      openMs(file, true); // warms the OS page cache
      const withFilter: number[] = [];
      const without: number[] = [];
      let memory = 0;
      for (let r = 0; r < rounds; r++) {
        const a = openMs(file, true);
        withFilter.push(a.ms);
        memory = Math.max(memory, a.heapMiB);
        without.push(openMs(file, false).ms);
      }
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      const result = {
        benchmark: 'aggregator-start-booking-filter',
        bookings: rows,
        open_ms_with_filter: Math.round(median(withFilter)),
        open_ms_without: Math.round(median(without)),
        filter_load_ms: Math.round(median(withFilter) - median(without)),
        runs_with_filter_ms: withFilter.map(Math.round),
        memory_mib_approx: Number(memory.toFixed(1)),
        conditions: 'file database in the OS page cache, no broker',
      };
      process.stdout.write(`${JSON.stringify(result)}\n`);
      rmSync(file, { force: true });
      rmSync(`${file}-wal`, { force: true });
      rmSync(`${file}-shm`, { force: true });
    }
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
