// Warms up a freshly started broker before the benchmarks: a JVM's first minutes run its fetch
// and produce paths interpreted while the JIT compiles them on the same two cores, which made the
// first benchmarks after `cdc stack up` 20-30 % slower than against a broker that had been
// running (a rebuild: 116,000-122,000 changes/s instead of 162,000-170,000). Produces
// WARM_RECORDS records of ~200 bytes to a scratch topic, reads them back twice, deletes the topic.
// Run by bench/run.js only when it started the stack itself.
'use strict';
const { randomBytes } = require('node:crypto');
const { createKafka, createLogger, loadConnectionConfig } = require('@cdc/core');
const { randomSuffix, uniqueGroupId } = require('@cdc/testing');

async function main() {
  const records = Number(process.env.WARM_RECORDS ?? 300_000);
  const config = loadConnectionConfig({
    ...process.env,
    TOPIC_PREFIX: `bench-warm-${randomSuffix()}.`,
  });
  const kafka = createKafka(config, createLogger('bench-warm', 'warn'));
  const admin = kafka.admin();
  await admin.connect();
  const topic = `${config.topicPrefix}warm`;
  const t0 = performance.now();
  const groups = [];
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const value = randomBytes(200);
    for (let i = 0; i < records; i += 5000) {
      const messages = Array.from({ length: Math.min(5000, records - i) }, (_, j) => ({
        key: `k${i + j}`,
        value,
      }));
      await producer.send({ topic, acks: -1, messages });
    }
    await producer.disconnect();
    for (let pass = 0; pass < 2; pass++) {
      const groupId = uniqueGroupId('warm');
      groups.push(groupId);
      const consumer = kafka.consumer({ groupId, maxBytesPerPartition: 16 << 20 });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      let seen = 0;
      await new Promise((resolve, reject) => {
        consumer.on(consumer.events.CRASH, (e) => reject(e.payload.error));
        consumer
          .run({
            eachBatch: async ({ batch }) => {
              seen += batch.messages.length;
              if (seen >= records) resolve();
            },
          })
          .catch(reject);
      });
      await consumer.disconnect();
    }
  } finally {
    await admin.deleteGroups(groups).catch(() => undefined);
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  }
  process.stderr.write(
    `[bench] broker warmed up: ${records} records written and read twice in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
  );
}

main().catch((err) => {
  process.stderr.write(`broker warm-up failed: ${err.message}\n`);
  process.exitCode = 1;
});
