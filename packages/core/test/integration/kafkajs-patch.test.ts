import { Kafka, logLevel, type Consumer, type LogEntry } from 'kafkajs';
import { waitFor } from '@cdc/core';
import { createTestContext, uniqueGroupId, type TestContext } from '@cdc/testing';

/**
 * What patches/kafkajs+2.2.4.patch adds to kafkajs, each behaviour against the real broker, with
 * kafkajs's own API (docs/kafkajs-patch.md lists the hunks and which test pins each one).
 * `scripts/kafkajs-pristine.sh` runs this file on an unpatched kafkajs: every test here fails there
 * but the 'stopped while joining' one (docs/kafkajs-patch.md says why).
 */
describe('kafkajs, patched', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext({ name: 'kafkajs-patch', partitions: 3 });
  });
  afterAll(() => ctx.cleanup());

  /** A client of its own, its log lines at `level` and above kept in `lines`. */
  function loggingKafka(level: logLevel): { kafka: Kafka; lines: LogEntry['log'][] } {
    const lines: LogEntry['log'][] = [];
    const kafka = new Kafka({
      clientId: 'kafkajs-patch-test',
      brokers: ctx.connection.brokers,
      logLevel: level,
      logCreator:
        () =>
        ({ log }: LogEntry) => {
          lines.push(log);
        },
    });
    return { kafka, lines };
  }

  /** The protocol error's type, found along kafkajs's wrappers (originalError, cause). */
  function protocolErrorType(error: unknown): string {
    for (let e = error as { type?: string; originalError?: unknown; cause?: unknown } | undefined; e;) {
      if (e.type) return e.type;
      e = (e.originalError ?? e.cause) as typeof e;
    }
    return String(error);
  }

  async function joined(consumer: Consumer, topic: string): Promise<void> {
    let isJoined = false;
    consumer.on(consumer.events.GROUP_JOIN, () => {
      isJoined = true;
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({ eachMessage: async () => undefined });
    await waitFor(() => isJoined, { timeoutMs: 30_000, what: 'the consumer to join its group' });
  }

  it('static membership (KIP-345): a second member with the same groupInstanceId fences the first', async () => {
    const groupId = uniqueGroupId('static');
    const { kafka } = loggingKafka(logLevel.NOTHING);
    const first = ctx.track(kafka.consumer({ groupId, groupInstanceId: 'instance-a' }));
    let firstCrashed: string | undefined;
    first.on(first.events.CRASH, (e) => {
      firstCrashed = protocolErrorType(e.payload.error);
    });
    await joined(first, ctx.topics.bronze);
    const second = ctx.track(ctx.kafka.consumer({ groupId, groupInstanceId: 'instance-a' }));
    await joined(second, ctx.topics.bronze);
    // Unpatched, the id never reaches the broker: two dynamic members share the partitions.
    await waitFor(() => firstCrashed, { timeoutMs: 30_000, what: 'the first member to be fenced' });
    expect(firstCrashed).toBe('FENCED_INSTANCE_ID');
  });

  it('a static member stopped with leaveGroupOnStop false stays, and its restart rebalances no one', async () => {
    const groupId = uniqueGroupId('stay');
    const options = { groupId, sessionTimeout: 30_000, heartbeatInterval: 300, maxWaitTimeInMs: 100 };
    const other = ctx.track(ctx.kafka.consumer({ ...options, groupInstanceId: 'other' }));
    let otherJoins = 0;
    let otherHeartbeats = 0;
    other.on(other.events.GROUP_JOIN, () => otherJoins++);
    other.on(other.events.HEARTBEAT, () => otherHeartbeats++);
    await joined(other, ctx.topics.bronze);
    const first = ctx.kafka.consumer({ ...options, groupInstanceId: 'restarted', leaveGroupOnStop: false });
    await joined(first, ctx.topics.bronze);
    // The other member took part in the rebalance the first join caused.
    await waitFor(() => otherJoins === 2, { timeoutMs: 30_000, what: 'the other member to rejoin' });
    await first.disconnect();
    // Unpatched (or leaving), the group rebalances now and has one member.
    const members = async () => (await ctx.admin.describeGroups([groupId])).groups[0]!.members.length;
    expect(await members()).toBe(2);
    const restarted = ctx.track(
      ctx.kafka.consumer({ ...options, groupInstanceId: 'restarted', leaveGroupOnStop: false }),
    );
    await joined(restarted, ctx.topics.bronze);
    // A rebalance would reach the other member through its heartbeats: a few more, and none came.
    const beats = otherHeartbeats;
    await waitFor(() => otherHeartbeats >= beats + 5, { timeoutMs: 30_000, what: 'five heartbeats' });
    expect(otherJoins).toBe(2);
    expect(await members()).toBe(2);
  });

  it('admin({ readUncommitted: true }) lists high watermarks; the default lists last stable offsets', async () => {
    const topic = ctx.topics.silver;
    const producer = ctx.track(
      ctx.kafka.producer({
        transactionalId: `${ctx.connection.topicPrefix}open`,
        idempotent: true,
        maxInFlightRequests: 1,
      }),
    );
    await producer.connect();
    const txn = await producer.transaction();
    await txn.send({ topic, acks: -1, messages: [{ partition: 0, value: 'open' }] });
    const uncommitted = ctx.track(ctx.kafka.admin({ readUncommitted: true }));
    await uncommitted.connect();
    const high = async (admin: typeof ctx.admin): Promise<string | undefined> =>
      (await admin.fetchTopicOffsets(topic)).find((p) => p.partition === 0)?.high;
    // The transaction is open: its record is below the high watermark, above the last stable offset.
    expect(await high(ctx.admin)).toBe('0');
    expect(await high(uncommitted)).toBe('1');
    await txn.abort();
  });

  it('a consumer stopped while it is still joining neither fetches nor stays in the group', async () => {
    const groupId = uniqueGroupId('stopped');
    const consumer = ctx.kafka.consumer({ groupId, retry: { retries: 1, initialRetryTime: 100 } });
    let fetchesAfterStop = 0;
    let stopped = false;
    consumer.on(consumer.events.FETCH_START, () => {
      if (stopped) fetchesAfterStop++;
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [ctx.topics.bronze], fromBeginning: true });
    // run() resolves once the group is joined: disconnect() while it is still joining.
    const running = consumer.run({ eachMessage: async () => undefined });
    await consumer.disconnect();
    stopped = true;
    await running.catch(() => undefined);
    // Unpatched, the join goes on after disconnect() returned and the consumer starts fetching.
    await new Promise((resolve) => setTimeout(resolve, 5000));
    const group = await ctx.admin.describeGroups([groupId]);
    expect(fetchesAfterStop).toBe(0);
    expect(group.groups[0]?.members).toEqual([]);
    await consumer.disconnect();
  });

  it("the FETCH event counts the fetch's non-empty batches (kafkajs reports 0)", async () => {
    const topic = ctx.topics.gold;
    const producer = ctx.track(ctx.kafka.producer());
    await producer.connect();
    await producer.send({
      topic,
      messages: [0, 1, 2].map((partition) => ({ partition, key: 'k', value: 'x' })),
    });
    const consumer = ctx.track(ctx.kafka.consumer({ groupId: uniqueGroupId('fetch') }));
    const counts: number[] = [];
    consumer.on(consumer.events.FETCH, (e) => counts.push(e.payload.numberOfBatches));
    let received = 0;
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async () => {
        received++;
      },
    });
    await waitFor(() => received === 3, { timeoutMs: 30_000, what: 'the three records' });
    expect(counts.reduce((a, b) => a + b, 0)).toBe(3);
  });

  it('back-to-back transactions log no error (CONCURRENT_TRANSACTIONS is retried quietly, after a few ms)', async () => {
    const { kafka, lines } = loggingKafka(logLevel.WARN);
    const producer = ctx.track(
      kafka.producer({
        transactionalId: `${ctx.connection.topicPrefix}back-to-back`,
        idempotent: true,
        maxInFlightRequests: 1,
      }),
    );
    await producer.connect();
    for (let i = 0; i < 30; i++) {
      const txn = await producer.transaction();
      await txn.send({ topic: ctx.topics.silver, acks: -1, messages: [{ partition: 1, value: `v${i}` }] });
      await txn.sendOffsets({
        consumerGroupId: `${ctx.connection.topicPrefix}back-to-back-group`,
        topics: [{ topic: ctx.topics.bronze, partitions: [{ partition: 0, offset: String(i) }] }],
      });
      await txn.commit();
    }
    expect(lines.map((l) => l.message)).toEqual([]);
  });
});
