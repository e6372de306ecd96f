import { randomBytes } from 'node:crypto';
import {
  allTopics,
  createKafka,
  createLogger,
  ensureTopics,
  loadConnectionConfig,
  topicNames,
  waitFor,
  type ConnectionConfig,
  type Logger,
  type LogLevel,
  type TopicNames,
  type Admin,
  type Consumer,
  type Kafka,
  type KafkaMessage,
} from '@cdc/core';

/**
 * Test helpers in the manner of kafkajs's testHelpers: every test gets its own topics (a random
 * TOPIC_PREFIX) and group ids, and one `cleanup()` closes every client it created.
 */
export const randomSuffix = (): string => randomBytes(4).toString('hex');
export const uniqueGroupId = (name = 'group'): string => `test-${name}-${randomSuffix()}`;

export interface TestContext {
  connection: ConnectionConfig;
  topics: TopicNames;
  kafka: Kafka;
  admin: Admin;
  logger: Logger;
  /** Registers a client (or anything with a close) to be closed by cleanup(). */
  track<T extends { disconnect(): Promise<void> } | { close(): Promise<void> | void }>(client: T): T;
  cleanup(): Promise<void>;
}

/**
 * A context on the integration stack, with the contract's topics created under a fresh prefix as
 * `cdc topics create` makes them: bronze, silver, dead letters, gold and the control topic
 * (compacted, one partition). `cleanup()` deletes them all.
 */
export async function createTestContext(
  options: {
    partitions?: number;
    name?: string;
    /** Over process.env: another stack's KAFKA_BROKERS and SCHEMA_REGISTRY_URL (a FaultStack's `env`). */
    env?: Record<string, string>;
  } = {},
): Promise<TestContext> {
  const prefix = `test-${options.name ?? 't'}-${randomSuffix()}.`;
  const connection = loadConnectionConfig({
    ...process.env,
    ...options.env,
    TOPIC_PREFIX: prefix,
    KAFKA_CLIENT_ID: `test-${randomSuffix()}`,
  });
  const logger = createLogger('test', (process.env.TEST_LOG_LEVEL as LogLevel | undefined) ?? 'error');
  const kafka = createKafka(connection, logger);
  const admin = kafka.admin();
  await admin.connect();
  const topics = topicNames(prefix);
  await ensureTopics(admin, topics, options.partitions ?? 3);
  const closers: (() => Promise<void> | void)[] = [];
  return {
    connection,
    topics,
    kafka,
    admin,
    logger,
    track(client) {
      closers.push('disconnect' in client ? () => client.disconnect() : () => client.close());
      return client;
    },
    async cleanup() {
      for (const close of closers.reverse()) await close();
      await admin.deleteTopics({ topics: allTopics(topics), timeout: 10_000 }).catch(() => undefined);
      await admin.disconnect();
    },
  };
}

/** Reads `topic` from the beginning until `predicate(messages)` holds, then disconnects. */
export async function readUntil(
  ctx: TestContext,
  topic: string,
  predicate: (messages: KafkaMessage[]) => boolean,
  options: { timeoutMs?: number; isolation?: 'read_committed' | 'read_uncommitted' } = {},
): Promise<KafkaMessage[]> {
  const consumer: Consumer = ctx.kafka.consumer({
    groupId: uniqueGroupId('reader'),
    readUncommitted: options.isolation === 'read_uncommitted',
  });
  await consumer.connect();
  const messages: KafkaMessage[] = [];
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        messages.push(message);
      },
    });
    await waitFor(() => predicate(messages), {
      timeoutMs: options.timeoutMs ?? 30_000,
      what: `messages on ${topic}`,
    });
    return messages;
  } finally {
    await consumer.disconnect();
  }
}
