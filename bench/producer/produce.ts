/**
 * Producer benchmark: generated booking changes, Avro encoded (Confluent frame), idempotent,
 * acks=all, as fast as the broker acknowledges, on its own topics; reports events/s and the
 * process's CPU time.
 *
 *   node bench/dist/producer/produce.js [--count 1000000] [--partitions 3]
 *        [--batch-size 1000] [--producers 3]
 *
 * Progress goes to stderr; one JSON line with the results goes to stdout.
 */
import { loadavg } from 'node:os';
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
import { DEFAULT_BATCH_SIZE, DEFAULT_PRODUCERS, parseProduceArgs, runProducer } from '@cdc/producer';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      count: { type: 'string', default: '1000000' },
      partitions: { type: 'string', default: '3' },
      'batch-size': { type: 'string', default: String(DEFAULT_BATCH_SIZE) },
      producers: { type: 'string', default: String(DEFAULT_PRODUCERS) },
    },
  });
  const partitions = Number(values.partitions);
  const prefix = `bench-producer-${randomSuffix()}.`;
  const connection = loadConnectionConfig({ ...process.env, TOPIC_PREFIX: prefix });
  const logger = createLogger('bench-producer', 'warn');
  const kafka = createKafka(connection, logger);
  const names = topicNames(prefix);
  await withAdmin(kafka, (admin) => ensureTopics(admin, names, partitions));
  process.stderr.write(`producer benchmark on ${names.bronze} (${partitions} partitions)\n`);

  const config = parseProduceArgs({
    count: values.count,
    rate: 'max',
    seed: '1',
    batchSize: values['batch-size'],
    producers: values.producers,
  });
  try {
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const summary = await runProducer(config, {
      connection,
      logger: createLogger('bench-producer', 'info'),
      progress: process.stderr.isTTY ? 'bar' : 'log',
    });
    const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    const cpuS = (cpu.user + cpu.system) / 1e6;
    if (summary.status !== 'completed') throw new Error(`run ${summary.status}: ${summary.error ?? ''}`);
    const events = summary.acknowledgedTotal;
    const result = {
      benchmark: 'producer',
      events,
      eventsPerSec: Math.round(events / wallS),
      wallSeconds: Number(wallS.toFixed(2)),
      cpuSeconds: Number(cpuS.toFixed(2)),
      cpuUserSeconds: Number((cpu.user / 1e6).toFixed(2)),
      cpuSystemSeconds: Number((cpu.system / 1e6).toFixed(2)),
      cpuMicrosPerEvent: Number(((cpuS * 1e6) / events).toFixed(2)),
      cpuCoresUsed: Number((cpuS / wallS).toFixed(2)),
      conditions: {
        partitions,
        batchSize: config.batchSize,
        producers: config.producers,
        inFlightPerProducer: 1,
        acks: 'all',
        idempotent: true,
        encoding: 'avro (confluent wire format)',
        compression: 'none',
        opMix: config.source.kind === 'generator' ? config.source.generator.mix : null,
        dirtyRatio: config.source.kind === 'generator' ? config.source.generator.dirtyRatio : null,
        cores: 2,
        loadAverage1mAtEnd: Number(loadavg()[0]!.toFixed(2)),
        node: process.version,
      },
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await withAdmin(kafka, (admin) =>
      admin.deleteTopics({ topics: allTopics(names), timeout: 10_000 }),
    ).catch((err: unknown) =>
      process.stderr.write(`could not delete the benchmark topics: ${String(err)}\n`),
    );
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`producer benchmark failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
