import { randomBytes } from 'node:crypto';
import {
  createDecoder,
  loadSchema,
  type Alert,
  type Logger,
  type RegistryClient,
  IDLE_FETCH_WAIT_MS,
  type Kafka,
} from '@cdc/core';

/**
 * Reads the alerts topic from the beginning (a compacted topic: each alert's newest transition)
 * with a throw-away group, as the gold consumer does, and hands every record to `onRecord`.
 * Undecodable records are logged and skipped. The topic may not exist yet (a pipeline from before
 * alerts): the dashboard then shows none.
 */
export interface AlertsConsumer {
  stop(): Promise<void>;
}

export async function startAlertsConsumer(o: {
  kafka: Kafka;
  registry: RegistryClient;
  topic: string;
  logger: Logger;
  onRecord(id: string, alert: Alert | null): void;
}): Promise<AlertsConsumer> {
  const decoder = createDecoder<Alert>(o.registry, loadSchema('Alert').type);
  const groupId = `live-ui-alerts-${randomBytes(6).toString('hex')}`;
  const consumer = o.kafka.consumer({
    groupId,
    maxWaitTimeInMs: IDLE_FETCH_WAIT_MS,
    sessionTimeout: 30_000,
    heartbeatInterval: 3000,
  });
  let logged = 0;
  await consumer.connect();
  await consumer.subscribe({ topic: o.topic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ message, partition }) => {
      const id = message.key?.toString();
      if (id === undefined) return;
      try {
        o.onRecord(id, message.value === null ? null : await decoder.decode(message.value));
      } catch (err) {
        if (logged++ < 20) {
          o.logger.warn({ partition, offset: message.offset, err }, 'skipping an undecodable alert');
        }
      }
    },
  });
  return {
    async stop() {
      await consumer.disconnect();
      const a = o.kafka.admin();
      await a
        .connect()
        .then(() => a.deleteGroups([groupId]))
        .catch(() => undefined)
        .finally(() => a.disconnect());
    },
  };
}
