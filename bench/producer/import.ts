/**
 * Import benchmark: a generated `raw_movie_bookings` CSV (default 1,000,000 rows, ~100 MB) through
 * `cdc import`'s runImport into a fresh bronze topic (every row new: a snapshot read, sent
 * idempotent with acks=all), then the same file again (bronze read back into the state store,
 * every row identical: nothing sent), which is the cost of the "what bronze holds" look-up.
 * Reports rows/s and CPU time of each pass.
 *
 *   node bench/dist/producer/import.js [--rows 1000000] [--partitions 3]
 *        [--batch-size 1000] [--producers 2] [--first-only]
 *
 * `--first-only` skips the second pass (e.g. to profile the first: `node --cpu-prof ...`).
 *
 * Progress goes to stderr; one JSON line with the results goes to stdout.
 */
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import {
  allTopics,
  createKafka,
  createLogger,
  ensureTopics,
  loadConnectionConfig,
  topicNames,
  withAdmin,
} from '@cdc/core';
import { randomSuffix } from '@cdc/testing';
import { DEFAULT_BATCH_SIZE, DEFAULT_PRODUCERS, runImport, type ImportConfig } from '@cdc/producer';

const HEADER =
  'booking_id,customer_id,movie_id,booking_date,status,ticket_count,ticket_price,total_amount,created_at,updated_at\n';

async function writeCsv(file: string, rows: number): Promise<void> {
  const out = createWriteStream(file);
  out.write(HEADER);
  const start = Date.UTC(2025, 8, 1);
  for (let i = 1; i <= rows; i++) {
    const count = 1 + (i % 4);
    const cents = 800 + ((i * 37) % 2200);
    const at = new Date(start + i * 60_000).toISOString().slice(0, 19).replace('T', ' ');
    const price = `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
    const total = `${Math.floor((count * cents) / 100)}.${String((count * cents) % 100).padStart(2, '0')}`;
    const line = `B${i},C${i % 50_000},M${i % 500},${at},BOOKED,${count},${price},${total},${at},${at}\n`;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rows: { type: 'string', default: '1000000' },
      partitions: { type: 'string', default: '3' },
      'batch-size': { type: 'string', default: String(DEFAULT_BATCH_SIZE) },
      producers: { type: 'string', default: String(DEFAULT_PRODUCERS) },
      'first-only': { type: 'boolean', default: false },
    },
  });
  const rows = Number(values.rows);
  const partitions = Number(values.partitions);
  const prefix = `bench-import-${randomSuffix()}.`;
  const connection = loadConnectionConfig({ ...process.env, TOPIC_PREFIX: prefix });
  const kafka = createKafka(connection, createLogger('bench-import', 'warn'));
  const names = topicNames(prefix);
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-import-'));
  const file = path.join(dir, 'raw_movie_bookings.csv');
  await writeCsv(file, rows);
  await withAdmin(kafka, (admin) => ensureTopics(admin, names, partitions));
  process.stderr.write(
    `import benchmark: ${rows} rows (${statSync(file).size} bytes) into ${names.bronze}\n`,
  );

  const config: ImportConfig = {
    input: file,
    map: new Map(),
    timeZone: 'UTC',
    dryRun: false,
    batchSize: Number(values['batch-size']),
    producers: Number(values.producers),
  };
  const pass = async (name: string) => {
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const summary = await runImport(config, {
      connection,
      logger: createLogger('bench-import', 'warn'),
      progress: process.stderr.isTTY ? 'bar' : 'none',
    });
    const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    if (summary.status !== 'completed') throw new Error(`${name}: ${summary.status} ${summary.error ?? ''}`);
    return {
      rows: summary.counts.rows,
      sent: summary.acknowledged,
      unchanged: summary.counts.unchanged,
      rowsPerSec: Math.round(summary.counts.rows / wallS),
      wallSeconds: Number(wallS.toFixed(2)),
      bronzeReadSeconds: Number((summary.bronze.durationMs / 1000).toFixed(2)),
      bronzeRecordsRead: summary.bronze.records,
      cpuSeconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(2)),
      cpuCoresUsed: Number(((cpu.user + cpu.system) / 1e6 / wallS).toFixed(2)),
    };
  };
  try {
    const first = await pass('first import');
    process.stderr.write(`first import: ${JSON.stringify(first)}\n`);
    const again = values['first-only'] ? null : await pass('second import');
    const result = {
      benchmark: 'import',
      firstImport: first,
      sameFileAgain: again,
      conditions: {
        rows,
        fileBytes: statSync(file).size,
        partitions,
        batchSize: config.batchSize,
        producers: config.producers,
        acks: 'all',
        idempotent: true,
        cores: 2,
        loadAverage1mAtEnd: Number(loadavg()[0]!.toFixed(2)),
        node: process.version,
      },
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await withAdmin(kafka, (admin) =>
      admin.deleteTopics({ topics: allTopics(names), timeout: 10_000 }),
    ).catch((err: unknown) =>
      process.stderr.write(`could not delete the benchmark topics: ${String(err)}\n`),
    );
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`import benchmark failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
