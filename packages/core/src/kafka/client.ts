import { Kafka, type Admin, type KafkaConfig } from 'kafkajs';
import type { ConnectionConfig } from '../config';
import type { KafkaSecurity } from '../connection-security';
import type { Logger } from '../logger';
import type { OutageTracker } from '../lifecycle/outage';
import { KAFKA_LOG_LEVEL, kafkaLogCreator } from './client-log';

/** A kafkajs client whose logs go to our structured logger (client-log.ts says which lines go where). */
export function createKafka(
  config: Pick<ConnectionConfig, 'brokers' | 'clientId' | 'kafkaSecurity'>,
  logger: Logger,
  options: { connectionTimeoutMs?: number; retries?: number; outages?: Pick<OutageTracker, 'failed'> } = {},
): Kafka {
  process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';
  return new Kafka({
    clientId: config.clientId,
    brokers: config.brokers,
    ...kafkaSecurityOptions(config.kafkaSecurity),
    connectionTimeout: options.connectionTimeoutMs ?? 3000,
    retry: { retries: options.retries ?? 5, initialRetryTime: 100, maxRetryTime: 2000 },
    logLevel: KAFKA_LOG_LEVEL,
    logCreator: kafkaLogCreator(logger, options.outages),
  });
}

/** kafkajs's `ssl` and `sasl` options for a security config (PLAINTEXT: neither). */
export function kafkaSecurityOptions(security: KafkaSecurity): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  const { tls, sasl } = security;
  return {
    ...(tls
      ? {
          ssl: {
            rejectUnauthorized: true,
            ...(tls.ca ? { ca: [tls.ca] } : {}),
            ...(tls.cert ? { cert: tls.cert } : {}),
            ...(tls.key ? { key: tls.key } : {}),
          },
        }
      : {}),
    ...(sasl
      ? { sasl: { mechanism: sasl.mechanism, username: sasl.username, password: sasl.password } }
      : {}),
  } as Pick<KafkaConfig, 'ssl' | 'sasl'>;
}

/** Runs `fn` with a connected admin client, always disconnecting it. */
export async function withAdmin<T>(kafka: Kafka, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}
