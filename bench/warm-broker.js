// Warms up a freshly started broker before the benchmarks: a JVM's first minutes run its fetch
// and produce paths interpreted while the JIT compiles them on the same two cores, which made the
// first benchmarks after `cdc stack up` 20-30 % slower than against a broker that had been
// running (a rebuild: 116,000-122,000 changes/s instead of 162,000-170,000). Produces
// WARM_RECORDS records of ~200 bytes to a scratch topic, reads them back twice; then runs
// WARM_TRANSACTION_S seconds of small transactions (produce, offsets, commit: the enricher's cycle)
// with a read-committed consumer following them and committing its offsets — the paths a fresh
// broker otherwise compiles during the end-to-end benchmark's first measured minute (a profile of
// the broker at 1,000 events/s there: its JIT compiler threads used ~35 % of a core). Deletes the
// topics. Run by bench/run.js only when it started the stack itself.
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
    await warmTransactions(kafka, admin, `${config.topicPrefix}warm-txn`, groups);
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
    await admin.deleteTopics({ topics: [topic, `${config.topicPrefix}warm-txn`] }).catch(() => undefined);
    await admin.disconnect();
  }
  process.stderr.write(
    `[bench] broker warmed up: ${records} records written and read twice, and transactions, in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
  );
}

/** Back-to-back small transactions for WARM_TRANSACTION_S seconds, read by a read-committed consumer. */
async function warmTransactions(kafka, admin, topic, groups) {
  const seconds = Number(process.env.WARM_TRANSACTION_S ?? 20);
  if (!(seconds > 0)) return;
  await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
  const readerGroup = uniqueGroupId('warm-txn-reader');
  const writerGroup = uniqueGroupId('warm-txn-writer');
  groups.push(readerGroup, writerGroup);
  const consumer = kafka.consumer({ groupId: readerGroup, maxWaitTimeInMs: 500 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachBatch: async () => undefined }); // auto-commits its offsets
  const producer = kafka.producer({
    transactionalId: `${topic}-${randomSuffix()}`,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
  const value = randomBytes(200);
  const end = Date.now() + seconds * 1000;
  try {
    for (let n = 1; Date.now() < end; n++) {
      const txn = await producer.transaction();
      const messages = [0, 1, 2].flatMap((partition) =>
        Array.from({ length: 10 }, (_, i) => ({ partition, key: `k${i}`, value })),
      );
      await txn.sendBatch({ topicMessages: [{ topic, messages }], acks: -1 });
      await txn.sendOffsets({
        consumerGroupId: writerGroup,
        topics: [{ topic, partitions: [0, 1, 2].map((partition) => ({ partition, offset: String(n) })) }],
      });
      await txn.commit();
    }
  } finally {
    await producer.disconnect();
    await consumer.disconnect();
  }
}

main().catch((err) => {
  process.stderr.write(`broker warm-up failed: ${err.message}\n`);
  process.exitCode = 1;
});
