// Measures the CPU an idle kafkajs client burns: a consumer subscribed to an empty topic and a
// connected producer, doing nothing for IDLE_SECONDS. kafkajs issues #1556/#1604 report a busy loop.
'use strict';
const { createKafka, createLogger, loadConnectionConfig } = require('@cdc/core');
const { randomSuffix, uniqueGroupId } = require('@cdc/testing');

async function main() {
  const seconds = Number(process.env.IDLE_SECONDS ?? 20);
  const config = loadConnectionConfig({
    ...process.env,
    TOPIC_PREFIX: `bench-idle-${randomSuffix()}.`,
  });
  const logger = createLogger('bench-idle', 'warn');
  const kafka = createKafka(config, logger);
  const admin = kafka.admin();
  await admin.connect();
  const topic = `${config.topicPrefix}idle`;
  await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
  const consumer = kafka.consumer({ groupId: uniqueGroupId('idle') });
  const producer = kafka.producer({ idempotent: true });
  await Promise.all([consumer.connect(), producer.connect()]);
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async () => {} });
  await producer.send({ topic, messages: [{ key: 'k', value: 'v' }] });
  await new Promise((r) => setTimeout(r, 3000));
  const start = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const used = process.cpuUsage(start);
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpuPercent = ((used.user + used.system) / 1000 / wallMs) * 100;
  await consumer.disconnect();
  await producer.disconnect();
  await admin.deleteTopics({ topics: [topic] });
  await admin.disconnect();
  process.stdout.write(
    JSON.stringify({
      bench: 'kafkajs-idle-cpu',
      idleSeconds: seconds,
      cpuPercentOfOneCore: +cpuPercent.toFixed(2),
    }) + '\n',
  );
}
main().catch((err) => {
  process.stderr.write(String(err && err.stack) + '\n');
  process.exit(1);
});
