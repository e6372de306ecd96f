import { z } from 'zod';
import {
  connectionSchema,
  intSetting,
  loadConnectionConfig,
  parseEnv,
  topicNames,
  type ConnectionConfig,
  type Env,
  type TopicNames,
} from '@cdc/core';
import { sourceNames } from './source/connector';

/** The topic Debezium writes the table's changes to (the connector routes them there), under TOPIC_PREFIX. */
export const SOURCE_TOPIC = 'movies.source.raw_movie_bookings';
export const sourceTopicName = (topicPrefix: string): string => topicPrefix + SOURCE_TOPIC;

/** The capture stage's settings, read and validated once at start (environment; CLI options merged in). */
export interface CaptureConfig {
  connection: ConnectionConfig;
  topics: TopicNames;
  /** Debezium's topic of the source table. */
  sourceTopic: string;
  /** `source.name` of every bronze record, and the prefix of its `event_id`. */
  sourceName: string;
  groupId: string;
  /** Stable per instance: a restarted instance fences its predecessor's open transaction. */
  transactionalId: string;
  opsPort: number;
  transactionTimeoutMs: number;
  /** Backoff after a failed batch before it is read again. */
  retryMs: number;
  /** The Debezium connector the stage keeps running (restarting it when it failed); null: not watched. */
  connectorWatch: { connectUrl: string; connector: string; intervalMs: number; maxBackoffMs: number } | null;
}

const name = z.string().regex(/^[a-zA-Z0-9._-]{1,100}$/, 'use 1-100 letters, digits, ".", "_" or "-"');

export const captureSchema = connectionSchema.extend({
  CAPTURE_INSTANCE_ID: name
    .default('capture-0')
    .describe('stable id of this capture instance (its transactional id is <group>.<instance-id>)'),
  CAPTURE_GROUP_ID: name
    .optional()
    .describe("the capture stage's consumer group on Debezium's topic (default <TOPIC_PREFIX>cdc-capture)"),
  CAPTURE_SOURCE_TOPIC: name
    .optional()
    .describe(`the topic Debezium writes the table's changes to (default <TOPIC_PREFIX>${SOURCE_TOPIC})`),
  CAPTURE_SOURCE_NAME: name
    .default('postgres')
    .describe('source.name of every bronze record, and the prefix of its event_id'),
  CAPTURE_OPS_PORT: intSetting(0, 65535)
    .default(9475)
    .describe("port of the capture stage's /healthz and /metrics, 0 = random"),
  CAPTURE_TRANSACTION_TIMEOUT_MS: intSetting(1000, 900_000)
    .default(30_000)
    .describe('the broker aborts a transaction left open longer than this (ms)'),
  CAPTURE_RETRY_MS: intSetting(1, 60_000)
    .default(500)
    .describe('backoff after a failed batch before it is read again (ms)'),
  CONNECT_URL: z
    .string()
    .url()
    .optional()
    .describe("Kafka Connect's REST URL (default the local stack's, http://127.0.0.1:<CDC_CONNECT_PORT>)"),
  CAPTURE_CONNECTOR_CHECK_MS: intSetting(0, 3_600_000)
    .default(5000)
    .describe(
      'how often capture checks its Debezium connector and restarts it when it failed (ms; 0 = never)',
    ),
  CAPTURE_CONNECTOR_MAX_BACKOFF_MS: intSetting(1000, 3_600_000)
    .default(300_000)
    .describe('the longest wait between two restarts of a connector that keeps failing (ms)'),
});

export function loadCaptureConfig(env: Env = process.env): CaptureConfig {
  const e = parseEnv(captureSchema, env);
  const connection = loadConnectionConfig(env);
  const groupId = e.CAPTURE_GROUP_ID ?? `${connection.topicPrefix}cdc-capture`;
  return {
    connection,
    topics: topicNames(connection.topicPrefix),
    sourceTopic: e.CAPTURE_SOURCE_TOPIC ?? sourceTopicName(connection.topicPrefix),
    sourceName: e.CAPTURE_SOURCE_NAME,
    groupId,
    transactionalId: `${groupId}.${e.CAPTURE_INSTANCE_ID}`,
    opsPort: e.CAPTURE_OPS_PORT,
    transactionTimeoutMs: e.CAPTURE_TRANSACTION_TIMEOUT_MS,
    retryMs: e.CAPTURE_RETRY_MS,
    connectorWatch:
      e.CAPTURE_CONNECTOR_CHECK_MS === 0
        ? null
        : {
            connectUrl: e.CONNECT_URL ?? 'http://127.0.0.1:8083',
            connector: sourceNames(connection.topicPrefix).connector,
            intervalMs: e.CAPTURE_CONNECTOR_CHECK_MS,
            maxBackoffMs: e.CAPTURE_CONNECTOR_MAX_BACKOFF_MS,
          },
  };
}
