/**
 * Enricher throughput with transactions: pre-fills bronze with N events, then times one enricher
 * instance draining them into silver (read committed in, one Kafka transaction per group of
 * chunks out). Progress on stderr, one JSON line on stdout. Runs against KAFKA_BROKERS and
 * SCHEMA_REGISTRY_URL on its own topics, which it deletes at the end.
 *
 *   npm run bench -- enricher                    # 200,000 events, 3 partitions
 *   BENCH_EVENTS=500000 BENCH_PARTITIONS=6 npm run bench -- enricher
 */
import os from 'node:os';
import {
  allTopics,
  createKafka,
  createLogger,
  createRegistryClient,
  ensureTopics,
  errorMessage,
  loadConnectionConfig,
  sleep,
  topicNames,
  type Logger,
} from '@cdc/core';
import { loadEnricherConfig, startEnricher } from '@cdc/enricher';
import { bookingChanges, bronzeEncoder, bronzeMessage, produceAll, randomSuffix } from '@cdc/testing';

/**
 * The bronze input: about five changes per booking, most of them updates (records with both
 * images), 2 % of the images with bad data. Seed 42: the same input on every run.
 */
const INPUT_MIX = { create: 20, cancel: 25, update: 50, delete: 5 };

const int = (name: string, fallback: number): number => {
  const v = process.env[name];
  const n = v === undefined ? fallback : Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive whole number, got ${v}`);
  return n;
};

const progress = (text: string): boolean => process.stderr.write(`${text}\n`);

async function main(): Promise<void> {
  const events = int('BENCH_EVENTS', 200_000);
  const partitions = int('BENCH_PARTITIONS', 3);
  const prefix = `bench-enrich-${randomSuffix()}.`;
  const env = { ...process.env, TOPIC_PREFIX: prefix, ENRICHER_OPS_PORT: '0', LOG_LEVEL: 'warn' };
  const connection = loadConnectionConfig(env);
  const logger: Logger = createLogger('bench-enrich', 'warn');
  const kafka = createKafka(connection, logger);
  const admin = kafka.admin();
  await admin.connect();
  const topics = topicNames(prefix);
  try {
    await ensureTopics(admin, topics, partitions);
    progress(`bench: ${events} events, ${partitions} partitions, topics ${prefix}*`);

    const encoder = await bronzeEncoder(createRegistryClient(connection.registryUrl), topics.bronze);
    const fillStart = Date.now();
    const messages = bookingChanges(events, {
      seed: 42,
      liveBookings: Math.ceil(events / 5),
      mix: INPUT_MIX,
      dirtyRatio: 0.02,
    }).map((c) => bronzeMessage(encoder, c));
    const bronzeBytes = messages.reduce((s, m) => s + (m.value as Buffer).length, 0);
    await produceAll(kafka, topics.bronze, messages, { perSend: 5000 });
    progress(
      `bench: bronze filled in ${Date.now() - fillStart} ms (${(bronzeBytes / 1e6).toFixed(1)} MB of values)`,
    );

    const config = loadEnricherConfig(env);
    const cpuBefore = process.cpuUsage();
    const started = Date.now();
    const enricher = await startEnricher(config, logger);
    let firstCommitAt: number | null = null;
    let firstCommitRecords = 0;
    let last = 0;
    let lastReport = Date.now();
    try {
      const deadline = started + 15 * 60_000;
      for (;;) {
        const s = enricher.stats();
        if (firstCommitAt === null && s.lastCommitAtMs !== null) {
          firstCommitAt = s.lastCommitAtMs;
          firstCommitRecords = s.recordsIn;
        }
        if (s.recordsIn >= events) break;
        if (Date.now() > deadline)
          throw new Error(`only ${s.recordsIn} of ${events} events after 15 minutes`);
        if (Date.now() - lastReport >= 1000) {
          progress(
            `bench: ${s.recordsIn}/${events} enriched (${Math.round(((s.recordsIn - last) * 1000) / (Date.now() - lastReport))}/s), ${s.transactionsCommitted} transactions`,
          );
          last = s.recordsIn;
          lastReport = Date.now();
        }
        await sleep(20);
      }
    } finally {
      await enricher.close();
    }
    const cpu = process.cpuUsage(cpuBefore);
    const cpuUsPerEvent = (cpu.user + cpu.system) / events;
    const s = enricher.stats();
    const end = s.lastCommitAtMs ?? Date.now();
    const totalMs = end - started;
    const steadyMs = firstCommitAt === null ? totalMs : end - firstCommitAt;
    const result = {
      benchmark: 'enricher',
      events,
      partitions,
      transactions: s.transactionsCommitted,
      records_per_transaction: Math.round(s.recordsIn / Math.max(1, s.transactionsCommitted)),
      aborted_transactions: s.transactionsAborted,
      events_per_second: Math.round((events * 1000) / totalMs),
      steady_events_per_second: Math.round(((events - firstCommitRecords) * 1000) / Math.max(1, steadyMs)),
      duration_ms: totalMs,
      enricher_cpu_us_per_event: Number(cpuUsPerEvent.toFixed(1)),
      events_per_cpu_second: Math.round(1e6 / cpuUsPerEvent),
      steady_duration_ms: steadyMs,
      unit: 'events/s, read committed in, transactions out (silver + offsets in one transaction)',
      conditions: {
        chunk_records: config.chunkRecords,
        transaction_max_records: config.transactionMaxRecords,
        send_max_bytes: config.sendMaxBytes,
        fetch_max_bytes_per_partition: config.fetchMaxBytesPerPartition,
        partitions_concurrency: config.partitionsConcurrency,
        bronze_value_bytes_avg: Math.round(bronzeBytes / events),
        cpus: os.cpus().length,
        loadavg_1m: Number(os.loadavg()[0]!.toFixed(2)),
        node: process.version,
        note: 'duration includes startup and group join; steady excludes them (from the first commit). events_per_cpu_second = events per second of the enricher process CPU time (user+system): what one free core would do, independent of the load from other processes',
      },
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await admin.deleteTopics({ topics: allTopics(topics), timeout: 30_000 }).catch(() => undefined);
    await admin.disconnect();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${errorMessage(err)}\n`);
  process.exitCode = 1;
});
