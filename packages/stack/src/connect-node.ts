import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { StackError, type Logger } from '@cdc/core';
import { mvn } from './fetch';
import { CONNECT_KAFKA_VERSION, REPO_ROOT } from './versions';

/** The Debezium PostgreSQL connector the stack runs (Maven Central: io.debezium:debezium-connector-postgres). */
export const DEBEZIUM_VERSION = '3.6.1.Final';
const CONNECT_POM = path.join(REPO_ROOT, 'stack', 'connect-pom.xml');
const DEBEZIUM_POM = path.join(REPO_ROOT, 'stack', 'debezium-pom.xml');
const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:2.8';

export interface ConnectDistribution {
  /** Kafka Connect's runtime (connect-runtime, connect-json, connect-transforms and their dependencies). */
  connectLibDir: string;
  /** Connect's plugin.path: one folder per plugin, the Debezium connector's inside. */
  pluginPath: string;
}

/**
 * Fetches Kafka Connect (at the broker's Kafka version) and the Debezium connector from Maven
 * Central, once each (a `.complete` marker), like the broker's jars.
 */
export function ensureConnectDistribution(home: string, logger: Logger): ConnectDistribution {
  const connectDir = path.join(home, 'dist', `connect-${CONNECT_KAFKA_VERSION}`);
  const pluginPath = path.join(home, 'dist', `connect-plugins-debezium-${DEBEZIUM_VERSION}`);
  const result = { connectLibDir: path.join(connectDir, 'lib'), pluginPath };
  fetchOnce(connectDir, logger, `Kafka Connect ${CONNECT_KAFKA_VERSION}`, CONNECT_POM, [
    `-Dkafka.version=${CONNECT_KAFKA_VERSION}`,
    `${DEPENDENCY_PLUGIN}:copy-dependencies`,
    `-DoutputDirectory=${result.connectLibDir}`,
  ]);
  const pluginDir = path.join(pluginPath, 'debezium-connector-postgres');
  fetchOnce(pluginPath, logger, `the Debezium PostgreSQL connector ${DEBEZIUM_VERSION}`, DEBEZIUM_POM, [
    `-Ddebezium.version=${DEBEZIUM_VERSION}`,
    `${DEPENDENCY_PLUGIN}:copy-dependencies`,
    '-DincludeScope=runtime',
    // The worker provides Kafka's API; a second copy in the plugin would only shadow it.
    '-DexcludeGroupIds=org.apache.kafka',
    `-DoutputDirectory=${pluginDir}`,
  ]);
  if (
    !readdirSync(result.connectLibDir).some((f) => f.startsWith(`connect-runtime-${CONNECT_KAFKA_VERSION}`))
  )
    throw new StackError(`Maven finished but ${result.connectLibDir} holds no connect-runtime jar`);
  return result;
}

function fetchOnce(dir: string, logger: Logger, what: string, pom: string, args: string[]): void {
  if (existsSync(path.join(dir, '.complete'))) return;
  logger.info(`fetching ${what} from Maven Central (first run only)`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  mvn(dir, args, pom);
  writeFileSync(path.join(dir, '.complete'), new Date().toISOString());
}

export interface ConnectNodeOptions {
  dir: string;
  port: number;
  brokers: string;
  pluginPath: string;
  /** Names the worker group and its config, offset and status topics (one Connect cluster per stack). */
  clusterName: string;
  heapMb: number;
}

export function connectFiles(dir: string) {
  return {
    config: path.join(dir, 'worker.properties'),
    log4j: path.join(dir, 'log4j.properties'),
    logFile: path.join(dir, 'connect.log'),
    pidFile: path.join(dir, 'connect.pid'),
  };
}

/** The worker's internal topics: compacted, one replica on the single-node stack. */
export function connectTopics(clusterName: string) {
  return {
    configs: `_connect-${clusterName}-configs`,
    offsets: `_connect-${clusterName}-offsets`,
    status: `_connect-${clusterName}-status`,
  };
}

/**
 * Worker settings that do not depend on where it runs. Kafka's own JsonConverter without schemas:
 * the capture stage reads Debezium's JSON and the registry stays the one source of bronze's schema.
 */
export const CONNECT_WORKER_SETTINGS: Readonly<Record<string, string>> = {
  'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
  'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
  'key.converter.schemas.enable': 'false',
  'value.converter.schemas.enable': 'false',
  'config.storage.replication.factor': '1',
  'offset.storage.replication.factor': '1',
  'status.storage.replication.factor': '1',
  // Source offsets (the LSN Debezium confirmed) are flushed every second: after a crash, at most
  // about a second of changes is sent again, and the version rule skips them.
  'offset.flush.interval.ms': '1000',
  // A worker that died (SIGKILL, a lost machine) leaves its connector and task "lost". Connect's
  // cooperative rebalancing waits this long for the same worker to come back before it hands them
  // to another; the default is 5 minutes, so a one-worker stack restarted after a crash captured
  // nothing for 5 minutes (the worker comes back with a new member id, not as the lost one).
  // A cluster of several workers may want the default back, so a short blip moves nothing.
  'scheduled.rebalance.max.delay.ms': '0',
  // Every plugin here (Kafka's and Debezium's) declares itself in ServiceLoader manifests, so the
  // worker skips the reflective scan of every jar, about 12 s of each start under load.
  'plugin.discovery': 'service_load',
};

export function writeConnectConfig(o: ConnectNodeOptions): void {
  const f = connectFiles(o.dir);
  mkdirSync(o.dir, { recursive: true });
  const topics = connectTopics(o.clusterName);
  const settings: Record<string, string> = {
    'bootstrap.servers': o.brokers,
    'group.id': `connect-${o.clusterName}`,
    'config.storage.topic': topics.configs,
    'offset.storage.topic': topics.offsets,
    'status.storage.topic': topics.status,
    listeners: `http://127.0.0.1:${o.port}`,
    'rest.advertised.host.name': '127.0.0.1',
    'rest.advertised.port': String(o.port),
    'plugin.path': o.pluginPath,
    ...CONNECT_WORKER_SETTINGS,
  };
  writeFileSync(
    f.config,
    `${Object.entries(settings)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n')}\n`,
  );
  writeFileSync(
    f.log4j,
    [
      'log4j.rootLogger=INFO, stdout',
      'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
      'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
      'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
      'log4j.logger.org.reflections=ERROR',
      'log4j.logger.org.apache.kafka.clients=WARN',
      '',
    ].join('\n'),
  );
}

export function connectCommand(java: string, libDir: string, o: ConnectNodeOptions): string[] {
  const f = connectFiles(o.dir);
  return [
    java,
    `-Xms${Math.min(128, o.heapMb)}m`,
    `-Xmx${o.heapMb}m`,
    '-XX:+UseG1GC',
    '-Djava.awt.headless=true',
    `-Dlog4j.configuration=file:${f.log4j}`,
    '-cp',
    `${libDir}/*`,
    'org.apache.kafka.connect.cli.ConnectDistributed',
    f.config,
  ];
}
