import os from 'node:os';
import path from 'node:path';
import { waitFor } from '@cdc/core';
import { runCdc, startCdc, type CdcProcess } from '@cdc/testing';
import { endOffsets, groupLag, round } from '../e2e/common';
import { openBenchRun } from '../support/pipeline';
import { openBenchSource, sampleEverySecond } from './common';

/**
 * The initial snapshot of a table that already holds BENCH_SNAPSHOT_ROWS bookings (1,000,000),
 * through the real capture path: rows/s into Debezium's topic (the connector's share), and rows/s
 * until the aggregator has applied every one (capture, enrich and aggregate running from the
 * start, as a user would run them), with the Kafka Connect worker's memory at its peak.
 *
 * Settings (env): BENCH_SNAPSHOT_ROWS (1000000), BENCH_PARTITIONS (3), BENCH_POSTGRES_PORT /
 * BENCH_CONNECT_PORT.
 */
const ROWS = Number(process.env.BENCH_SNAPSHOT_ROWS ?? 1_000_000);
const PARTITIONS = Number(process.env.BENCH_PARTITIONS ?? 3);
if (!Number.isInteger(ROWS) || ROWS < 1) throw new Error('BENCH_SNAPSHOT_ROWS must be a whole number ≥ 1');

const say = (msg: string): void => void process.stderr.write(`[bench capture/snapshot] ${msg}\n`);

async function main(): Promise<void> {
  const run = await openBenchRun('snapshot');
  const source = await openBenchSource();
  const { connection, topics, admin, tmp, prefix } = run;
  const env = { LOG_LEVEL: 'warn', DATABASE_URL: source.databaseUrl, CONNECT_URL: source.connectUrl };
  const procs: CdcProcess[] = [];
  const cdc = (args: string[]): CdcProcess => {
    const p = startCdc(args, { connection, env });
    procs.push(p);
    return p;
  };
  const sourceTopic = `${prefix}movies.source.raw_movie_bookings`;
  const groups = {
    capture: `${prefix}cdc-capture`,
    enricher: `${prefix}cdc-enricher`,
    aggregator: `${prefix}cdc-aggregator`,
  };
  try {
    say(`loading ${ROWS.toLocaleString('en')} rows`);
    const l0 = Date.now();
    await source.client.query(
      `INSERT INTO raw_movie_bookings (booking_id, customer_id, movie_id, booking_date, status, ticket_count, ticket_price)
       SELECT 's' || i, 'C' || (i % 5000), 'M' || (1 + i % 200), now() - make_interval(days => 1 + i % 365, hours => i % 24),
              CASE WHEN i % 7 = 0 THEN 'CANCELLED' ELSE 'BOOKED' END, 1 + i % 6, (500 + i % 2500) / 100.0
       FROM generate_series(1, $1::int) AS i`,
      [ROWS],
    );
    await source.client.query('ANALYZE raw_movie_bookings');
    say(`loaded in ${round((Date.now() - l0) / 1000, 1)} s`);
    const created = await runCdc(['topics', 'create', '--partitions', String(PARTITIONS)], { connection });
    if (created.code !== 0) throw new Error(`cdc topics create: ${created.stderr}`);
    const idleRss = source.connectRssMb();
    const rss = sampleEverySecond(() => source.connectRssMb());
    const t0 = Date.now();
    // The connector first (capture needs its topic), the stages at once after: the snapshot runs
    // while `source create` waits for the task, so they start with a backlog, as a user's would.
    const connector = await runCdc(['source', 'create', '--execute'], { connection, env });
    if (connector.code !== 0) throw new Error(`cdc source create: ${connector.stderr}`);
    cdc(['capture', '--ops-port', '0']);
    cdc(['enrich', '--ops-port', '0']);
    cdc(['aggregate', '--db', path.join(tmp, 'aggregator.db'), '--ops-port', '0']);
    const countOn = async (topic: string) => endOffsets(admin, topic).catch(() => 0);
    /** A stage that exited ends the wait (core's waitFor retries a check that throws) and the run, with its log. */
    const exited = (): boolean => procs.some((p) => !p.running());
    const failIfExited = (): void => {
      const gone = procs.find((p) => !p.running());
      if (gone) throw new Error(`a stage exited: ${gone.describe()}`);
    };
    await waitFor(async () => exited() || (await countOn(sourceTopic)) >= ROWS, {
      timeoutMs: 3_600_000,
      intervalMs: 500,
      what: "every row on Debezium's topic",
    });
    failIfExited();
    const tDebezium = Date.now();
    say(`debezium: ${round((tDebezium - t0) / 1000, 1)} s`);
    await waitFor(
      async () =>
        exited() ||
        ((await countOn(topics.silver)) >= ROWS &&
          (await groupLag(admin, groups.aggregator, topics.silver)) === 0),
      { timeoutMs: 3_600_000, intervalMs: 500, what: 'the aggregator to apply every row' },
    );
    failIfExited();
    const tDone = Date.now();
    const memory = rss.stop();
    process.stdout.write(
      `${JSON.stringify({
        bench: 'capture/snapshot',
        rows: ROWS,
        debezium_s: round((tDebezium - t0) / 1000, 1),
        debezium_rows_per_s: Math.round(ROWS / ((tDebezium - t0) / 1000)),
        pipeline_s: round((tDone - t0) / 1000, 1),
        pipeline_rows_per_s: Math.round(ROWS / ((tDone - t0) / 1000)),
        connect_rss_mb: { before: idleRss, peak: memory.peak, after: memory.last },
        conditions: {
          cpus: os.cpus().length,
          load1: round(os.loadavg()[0]!, 2),
          node: process.version,
          partitions: PARTITIONS,
        },
      })}\n`,
    );
  } finally {
    await runCdc(['source', 'delete', '--execute'], { connection, env }).catch(() => undefined);
    for (const p of procs) await p.stop('SIGTERM', { timeoutMs: 30_000 }).catch(() => undefined);
    await source.close();
    await run.cleanup(Object.values(groups));
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
