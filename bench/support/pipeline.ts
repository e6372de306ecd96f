import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  allTopics,
  createKafka,
  createLogger,
  loadConnectionConfig,
  topicNames,
  type ConnectionConfig,
  type LogLevel,
  type TopicNames,
  type Admin,
  type Kafka,
} from '@cdc/core';
import { randomSuffix } from '@cdc/testing';

/**
 * What the benchmarks that run the pipeline as `cdc` processes share (bench/e2e, bench/alerts/
 * pipeline.ts): a fresh topic prefix on the bench broker (the topics are created by the caller:
 * `cdc topics create` or ensureTopics), a connected admin, and a temporary folder for the
 * services' databases. Not a benchmark itself (bench/run.js skips this folder).
 */
export interface BenchRun {
  prefix: string;
  connection: ConnectionConfig;
  topics: TopicNames;
  kafka: Kafka;
  admin: Admin;
  /** A temporary folder of this run (databases, rules files). */
  tmp: string;
  /** Deletes the run's topics, the consumer `groups` and the folder; disconnects the admin. */
  cleanup(groups?: string[]): Promise<void>;
}

export async function openBenchRun(name: string, kafkaLogLevel: LogLevel = 'error'): Promise<BenchRun> {
  const prefix = `bench-${name}-${randomSuffix()}.`;
  const connection = loadConnectionConfig({
    ...process.env,
    TOPIC_PREFIX: prefix,
    KAFKA_CLIENT_ID: `bench-${name}`,
  });
  const topics = topicNames(prefix);
  const kafka = createKafka(connection, createLogger('bench', kafkaLogLevel));
  const admin = kafka.admin();
  await admin.connect();
  const tmp = mkdtempSync(path.join(os.tmpdir(), `bench-${name}-`));
  return {
    prefix,
    connection,
    topics,
    kafka,
    admin,
    tmp,
    async cleanup(groups = []) {
      await admin.deleteTopics({ topics: allTopics(topics), timeout: 10_000 }).catch(() => undefined);
      if (groups.length > 0) await admin.deleteGroups(groups).catch(() => undefined);
      await admin.disconnect();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}
