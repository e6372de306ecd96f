import type { Kafka, Producer, ProducerConfig } from 'kafkajs';

/**
 * An idempotent producer: the broker drops a retried send it already wrote, and with one request
 * in flight per broker kafkajs keeps the order of sends. Sends still say `acks: -1` themselves.
 * `options` add to that (no auto-created topics, the producer's own retry settings, …).
 */
export function createIdempotentProducer(
  kafka: Kafka,
  options: Omit<ProducerConfig, 'idempotent' | 'maxInFlightRequests' | 'transactionalId'> = {},
): Producer {
  return kafka.producer({ idempotent: true, maxInFlightRequests: 1, ...options });
}
