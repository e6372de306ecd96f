import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { StackError } from '@cdc/core';
import type { KafkaLine } from './versions';

/** Single-node Kafka in KRaft mode (broker and controller in one process). */
export interface KafkaNodeOptions {
  dir: string;
  port: number;
  controllerPort: number;
  heapMb: number;
  /** The release line of the jars it runs (how they are told where their logging configuration is). */
  line: KafkaLine;
}

/**
 * Broker settings that do not depend on where the broker runs: `writeKafkaConfig` writes them
 * for `cdc stack up`, and docker-compose.yml sets the same ones as KAFKA_* variables (a unit test
 * compares the two). Single node, so every internal topic has one replica.
 */
export const KAFKA_BROKER_SETTINGS: Readonly<Record<string, string>> = {
  'num.partitions': '3',
  'auto.create.topics.enable': 'false',
  'offsets.topic.replication.factor': '1',
  'offsets.topic.num.partitions': '10',
  'transaction.state.log.replication.factor': '1',
  'transaction.state.log.min.isr': '1',
  'transaction.state.log.num.partitions': '10',
  'group.initial.rebalance.delay.ms': '0',
  // Topics are the source of truth: a topic without a retention of its own keeps its history
  // (`cdc topics create` also sets retention.ms on bronze and silver). -1 = no time limit.
  'log.retention.ms': '-1',
  'log.cleaner.backoff.ms': '5000',
  'delete.topic.enable': 'true',
};

export function kafkaFiles(dir: string) {
  return {
    config: path.join(dir, 'server.properties'),
    log4j: path.join(dir, 'log4j.properties'),
    log4j2: path.join(dir, 'log4j2.properties'),
    dataDir: path.join(dir, 'data'),
    logFile: path.join(dir, 'kafka.log'),
    pidFile: path.join(dir, 'kafka.pid'),
  };
}

export function writeKafkaConfig(o: KafkaNodeOptions): void {
  const f = kafkaFiles(o.dir);
  mkdirSync(f.dataDir, { recursive: true });
  writeFileSync(
    f.config,
    [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@127.0.0.1:${o.controllerPort}`,
      `listeners=PLAINTEXT://127.0.0.1:${o.port},CONTROLLER://127.0.0.1:${o.controllerPort}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${o.port}`,
      'controller.listener.names=CONTROLLER',
      'inter.broker.listener.name=PLAINTEXT',
      'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      `log.dirs=${f.dataDir}`,
      ...Object.entries(KAFKA_BROKER_SETTINGS).map(([key, value]) => `${key}=${value}`),
      '',
    ].join('\n'),
  );
  if (o.line.major === 4) writeFileSync(f.log4j2, LOG4J2_CONFIG);
  else writeFileSync(f.log4j, LOG4J_CONFIG);
}

/**
 * The broker logs to stdout (the stack's kafka.log) at INFO, request and state-change logs at
 * WARN: Kafka 3.x reads it in reload4j's format, Kafka 4.x in Log4j 2's (`writeKafkaConfig`
 * writes the one its line reads, `loggingOption` points the JVM at it).
 */
const LOG4J_CONFIG = [
  'log4j.rootLogger=INFO, stdout',
  'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
  'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
  'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
  'log4j.logger.kafka=INFO',
  'log4j.logger.org.apache.kafka=INFO',
  'log4j.logger.kafka.request.logger=WARN',
  'log4j.logger.state.change.logger=WARN',
  '',
].join('\n');
const LOG4J2_CONFIG = [
  'appender.stdout.type=Console',
  'appender.stdout.name=STDOUT',
  'appender.stdout.layout.type=PatternLayout',
  'appender.stdout.layout.pattern=[%d] %p %m (%c)%n',
  'rootLogger.level=INFO',
  'rootLogger.appenderRef.stdout.ref=STDOUT',
  'logger.request.name=kafka.request.logger',
  'logger.request.level=WARN',
  'logger.state.name=state.change.logger',
  'logger.state.level=WARN',
  '',
].join('\n');

function loggingOption(o: KafkaNodeOptions): string {
  const f = kafkaFiles(o.dir);
  return o.line.loggingConfigProperty === 'log4j2.configurationFile'
    ? `-Dlog4j2.configurationFile=${f.log4j2}`
    : `-Dlog4j.configuration=file:${f.log4j}`;
}

const classpath = (libDir: string) => `${libDir}/*`;

/**
 * A random cluster id as Kafka writes them (16 bytes, base64url), never starting with '-': the
 * storage tool's argument parser would read such an id as an option and fail (1 start in 64),
 * which is why Kafka's own Uuid.randomUuid() draws again in that case too.
 */
export function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url').slice(0, 22);
    if (!id.startsWith('-')) return id;
  }
}

/** Formats the storage directory once (KRaft needs a cluster id before the first start). */
export function formatStorageIfNeeded(java: string, libDir: string, o: KafkaNodeOptions): void {
  const f = kafkaFiles(o.dir);
  if (existsSync(path.join(f.dataDir, 'meta.properties'))) return;
  const clusterId = newClusterId();
  const r = spawnSync(
    java,
    [
      '-cp',
      classpath(libDir),
      loggingOption(o),
      'kafka.tools.StorageTool',
      'format',
      '-t',
      clusterId,
      '-c',
      f.config,
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new StackError(`formatting Kafka storage failed:\n${r.stdout}${r.stderr}`);
}

export function kafkaCommand(java: string, libDir: string, o: KafkaNodeOptions): string[] {
  const f = kafkaFiles(o.dir);
  return [
    java,
    `-Xms${Math.min(256, o.heapMb)}m`,
    `-Xmx${o.heapMb}m`,
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-Djava.awt.headless=true',
    loggingOption(o),
    `-Dkafka.logs.dir=${o.dir}`,
    '-cp',
    classpath(libDir),
    'kafka.Kafka',
    f.config,
  ];
}
