import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLogger, errorMessage } from '@cdc/core';
import { AggregatorStore } from '@cdc/aggregator';
import {
  BOOKING_ROW_COLUMNS,
  bookingsPage,
  exportBookings,
  createDbHandle,
  filteredKpis,
  filterOptions,
  BOOKINGS_DDL,
  SCHEMA_VERSION,
  storedKpis,
  summary,
  type DbHandle,
} from '@cdc/read-model';
import { csvLine } from '@cdc/live-ui';
import { changeStream, enrich } from '@cdc/testing';
import { percentile } from '../support/gold';

/**
 * `npm run bench -- scale`: the costs of the aggregator and the dashboard's queries on a large
 * read model, offline (no broker), at each size of BENCH_SCALE_SIZES (default 100000,10000000
 * bookings).
 *
 * The history is built through the live path itself: the producer's seeded generator (seed 42,
 * 50 movies, 70 % creates, 15 % cancels, 10 % updates, 5 % deletes, the latest
 * BENCH_SCALE_LIVE_BOOKINGS = 100,000 bookings still changing, older ones dormant, as a cinema's
 * bookings are) enriched and applied by `AggregatorStore.applyBatch` in transactions of 20,000
 * changes, until the table holds the size's bookings (tombstones included). The file is kept in
 * BENCH_SCALE_DIR (default a temporary folder, deleted at the end) keyed by size and schema, so a
 * second run measures without building again (the measurements run on a copy).
 *
 * Then, each in a fresh child process on the copy:
 * - aggregator: start-up (open: schema check, caches, Bloom filter of the stored ids), then
 *   BENCH_SCALE_LIVE_CHANGES (200,000) further changes of the same stream in transactions of
 *   BENCH_SCALE_TXN (1,000: a live fetch): process CPU per change; RSS at the end.
 * - dashboard: start-up (open + the default view's queries), then each API route's query
 *   BENCH_SCALE_REPS (30) times: p50/p99 in ms; the CSV export's first chunk and its full
 *   rate; RSS at the end. The queries are the routes' own functions (HTTP and JSON excluded).
 */
const int = (name: string, fallback: number): number => {
  const v = process.env[name];
  const n = v === undefined ? fallback : Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive whole number, got ${v}`);
  return n;
};

const SIZES = (process.env.BENCH_SCALE_SIZES ?? '100000,10000000').split(',').map(Number);
const LIVE_BOOKINGS = int('BENCH_SCALE_LIVE_BOOKINGS', 100_000);
const LIVE_CHANGES = int('BENCH_SCALE_LIVE_CHANGES', 200_000);
const LIVE_TXN = int('BENCH_SCALE_TXN', 1000);
const REPS = int('BENCH_SCALE_REPS', 30);
const BUILD_TXN = 20_000;

const progress = (msg: string): void => void process.stderr.write(`[bench scale] ${msg}\n`);
const rssMb = (): number => Math.round(process.memoryUsage().rss / 1e6);

/** The history's change stream (the same on every run). */
const stream = () =>
  changeStream({
    seed: 42,
    liveBookings: LIVE_BOOKINGS,
    movies: 50,
    mix: { create: 70, cancel: 15, update: 10, delete: 5 },
    dirtyRatio: 0.02,
  });

/**
 * A short fingerprint of the bookings table, so a kept file of another table layout is not
 * reused (indexes are added to a kept file by opening it for writing: `migrate`).
 */
function schemaTag(): string {
  const ddl = `${SCHEMA_VERSION} ${BOOKINGS_DDL}`;
  let h = 0;
  for (let i = 0; i < ddl.length; i++) h = (Math.imul(h, 31) + ddl.charCodeAt(i)) | 0;
  return (h >>> 0).toString(16);
}

interface BuildInfo {
  bookings: number;
  changes: number;
  build_s: number;
  build_cpu_us_per_change: number;
}

/** Child `build <file> <bookings>`: the history, applied through the live path. */
function build(file: string, bookings: number): void {
  const next = stream();
  const store = AggregatorStore.open(file);
  const count = store.db.prepare('SELECT COUNT(*) FROM bookings').pluck();
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let changes = 0;
  let rows = 0;
  while (rows < bookings) {
    const records = Array.from({ length: BUILD_TXN }, (_, j) => ({
      offset: changes + j,
      change: enrich(next(), { enrichedAtMs: 0 }),
    }));
    store.applyBatch({ topic: 'silver', partition: 0, records, nextOffset: changes + BUILD_TXN });
    changes += BUILD_TXN;
    // Creates are 70 % of the changes: count rows only near the goal.
    rows = changes * 0.68 < bookings ? 0 : (count.get() as number);
    if (changes % 1_000_000 === 0)
      progress(`built ${changes} changes (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  }
  store.db.pragma('wal_checkpoint(TRUNCATE)');
  store.close();
  const c = process.cpuUsage(c0);
  const info: BuildInfo = {
    bookings: rows,
    changes,
    build_s: Math.round((performance.now() - t0) / 1000),
    build_cpu_us_per_change: Number(((c.user + c.system) / changes).toFixed(1)),
  };
  writeFileSync(`${file}.json`, JSON.stringify(info));
}

/** Child `aggregator <file> <changes to skip>`: start-up and live CPU per change on the built state. */
function aggregator(file: string, skip: number): void {
  const next = stream();
  for (let i = 0; i < skip; i++) next(); // the history's changes: the live ones follow them
  const t0 = performance.now();
  const store = AggregatorStore.open(file);
  const startMs = performance.now() - t0;
  let cpuUs = 0;
  for (let offset = skip; offset < skip + LIVE_CHANGES; offset += LIVE_TXN) {
    const records = Array.from({ length: LIVE_TXN }, (_, j) => ({
      offset: offset + j,
      change: enrich(next(), { enrichedAtMs: 0 }),
    }));
    const c0 = process.cpuUsage();
    store.applyBatch({ topic: 'silver', partition: 0, records, nextOffset: offset + LIVE_TXN });
    const c = process.cpuUsage(c0);
    cpuUs += c.user + c.system;
  }
  const rss = rssMb();
  store.close();
  print({
    aggregator_start_ms: Math.round(startMs),
    cpu_us_per_live_change: Number((cpuUs / LIVE_CHANGES).toFixed(1)),
    aggregator_rss_mb: rss,
  });
}

function timeMs(fn: () => unknown): number {
  const t = performance.now();
  fn();
  return performance.now() - t;
}

function quantiles(fn: () => unknown): { p50_ms: number; p99_ms: number } {
  const samples = Array.from({ length: REPS }, () => timeMs(fn)).sort((a, b) => a - b);
  return {
    p50_ms: Number(percentile(samples, 50).toFixed(2)),
    p99_ms: Number(percentile(samples, 99).toFixed(2)),
  };
}

/** The CSV export: time to its first chunk, and its rate over every row. */
function csvExport(db: DbHandle): Record<string, number> {
  const t0 = performance.now();
  // As the route's stream (csv-export.ts) builds it: 64 KiB chunks of CSV lines.
  const snapshot = exportBookings(db, { sort: 'booking_id', order: 'asc' });
  let first = 0;
  let bytes = 0;
  let chunk = csvLine(BOOKING_ROW_COLUMNS);
  try {
    for (const row of snapshot.rows) {
      chunk += csvLine(BOOKING_ROW_COLUMNS.map((c) => row[c]));
      if (chunk.length >= 65_536) {
        if (first === 0) first = performance.now() - t0;
        bytes += chunk.length;
        chunk = '';
      }
    }
  } finally {
    snapshot.close();
  }
  bytes += chunk.length;
  const s = (performance.now() - t0) / 1000;
  return {
    first_chunk_ms: Number(first.toFixed(1)),
    total_s: Number(s.toFixed(1)),
    mb_per_s: Number((bytes / 1e6 / s).toFixed(1)),
  };
}

/** Child `ui <file>`: the dashboard's start-up and each route's query times. */
function ui(file: string): void {
  const logger = createLogger('bench-scale', 'warn');
  const t0 = performance.now();
  const db = createDbHandle(file, logger);
  const options = filterOptions(db);
  const movie = storedKpis(db, {})[0]?.movie_key ?? 'M001';
  // The default view: the cards and charts, the KPI table, the filters, the first bookings page.
  const defaultView = () => {
    summary(db, {});
    storedKpis(db, {});
    filterOptions(db);
    bookingsPage(db, { page: 1, pageSize: 50, sort: 'booking_id', order: 'asc' });
  };
  defaultView();
  const startMs = performance.now() - t0;
  const total = bookingsPage(db, { page: 1, pageSize: 50, sort: 'booking_id', order: 'asc' }).total;
  const deep = Math.max(1, Math.floor(total / 50 / 2));
  const lastWeek = { from: options.max_date ?? undefined, to: options.max_date ?? undefined };
  const routes = {
    summary_default: () => summary(db, {}),
    kpis_default: () => storedKpis(db, {}),
    filters: () => filterOptions(db),
    summary_filtered: () => summary(db, { ...lastWeek, status: ['CANCELLED'] }),
    kpis_filtered: () => filteredKpis(db, { ...lastWeek, status: ['CANCELLED'] }),
    kpis_filtered_movie: () => filteredKpis(db, { movie: [movie], status: ['BOOKED'] }),
    bookings_first_page: () => bookingsPage(db, { page: 1, pageSize: 50, sort: 'booking_id', order: 'asc' }),
    bookings_deep_page: () =>
      bookingsPage(db, { page: deep, pageSize: 50, sort: 'booking_id', order: 'asc' }),
    bookings_sorted_page: () =>
      bookingsPage(db, { page: 1, pageSize: 50, sort: 'total_amount_cents', order: 'desc' }),
    bookings_movie_page: () =>
      bookingsPage(db, { page: 1, pageSize: 50, sort: 'booking_date', order: 'desc', movie: [movie] }),
  };
  const times: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(routes)) times[name] = quantiles(fn);
  times.csv_export = csvExport(db);
  const rss = rssMb();
  db.close();
  print({ dashboard_start_ms: Math.round(startMs), dashboard_rss_mb: rss, routes: times });
}

function print(o: object): void {
  process.stdout.write(`${JSON.stringify(o)}\n`);
}

function child(args: string[]): Record<string, unknown> {
  const r = spawnSync(process.execPath, [__filename, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  if (r.status !== 0) throw new Error(`bench scale ${args[0]} failed (exit ${r.status})`);
  const last = r.stdout.trim().split('\n').at(-1);
  return last ? (JSON.parse(last) as Record<string, unknown>) : {};
}

function measure(dir: string, bookings: number): void {
  const history = path.join(dir, `history-${bookings}-${schemaTag()}.db`);
  if (!existsSync(`${history}.json`)) {
    rmSync(history, { force: true });
    progress(`building ${bookings} bookings into ${history}`);
    child(['build', history, String(bookings)]);
  } else progress(`reusing ${history}`);
  const info = JSON.parse(readFileSync(`${history}.json`, 'utf8')) as BuildInfo;
  const live = path.join(dir, 'live.db');
  for (const s of ['', '-wal', '-shm']) rmSync(live + s, { force: true });
  copyFileSync(history, live);
  // Indexes the kept file does not have yet (its table layout is the same: schemaTag).
  child(['migrate', live]);
  const dbMb = Math.round(statSync(live).size / 1e6);
  progress(`aggregator on ${bookings} bookings`);
  const agg = child(['aggregator', live, String(info.changes)]);
  progress(`dashboard on ${bookings} bookings`);
  const dash = child(['ui', live]);
  print({
    benchmark: 'scale',
    ...info,
    history_changes_per_s: Math.round(info.changes / info.build_s),
    db_mb: dbMb,
    ...agg,
    ...dash,
    conditions:
      `offline, file database; history: seed 42, 50 movies, ${LIVE_BOOKINGS} live bookings, ` +
      `built through the live path in ${BUILD_TXN}-change transactions; live: ${LIVE_CHANGES} changes in ${LIVE_TXN}-change transactions; ` +
      `${REPS} runs per route`,
  });
  for (const s of ['', '-wal', '-shm']) rmSync(live + s, { force: true });
}

function main(): void {
  const [mode, file, n] = process.argv.slice(2);
  if (mode === 'build') return build(file!, Number(n));
  if (mode === 'aggregator') return aggregator(file!, Number(n));
  if (mode === 'ui') return ui(file!);
  if (mode === 'migrate') return AggregatorStore.open(file!).close();
  const kept = process.env.BENCH_SCALE_DIR;
  const dir = kept ?? mkdtempSync(path.join(tmpdir(), 'cdc-bench-scale-'));
  mkdirSync(dir, { recursive: true });
  try {
    for (const size of SIZES) measure(dir, size);
  } finally {
    if (kept === undefined) rmSync(dir, { recursive: true, force: true });
  }
}

try {
  main();
} catch (err) {
  process.stderr.write(`bench failed: ${errorMessage(err)}\n`);
  process.exitCode = 1;
}
