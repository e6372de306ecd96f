import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import { createTestContext, type TestContext } from '@cdc/testing';

/**
 * The patched kafkajs (patches/kafkajs+2.2.4.patch, eosManager) remembers a transactional
 * producer's coordinators: unpatched, every transaction that produced and sent offsets made four
 * FindCoordinator round trips besides its own five requests. A coordinator is looked up again
 * after a request to it failed.
 */
describe('kafkajs transactions (patched)', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext({ name: 'kafkajs-txn', partitions: 3 });
  });
  afterAll(() => ctx.cleanup());

  /** A client of its own whose debug log counts the requests sent, by API name. */
  function countingKafka(): { kafka: Kafka; requests: Map<string, number> } {
    const requests = new Map<string, number>();
    const kafka = new Kafka({
      clientId: 'kafkajs-txn-test',
      brokers: ctx.connection.brokers,
      logLevel: logLevel.DEBUG,
      logCreator:
        () =>
        ({ log }: LogEntry) => {
          const api = /^Request (\w+)/.exec(log.message)?.[1];
          if (api !== undefined) requests.set(api, (requests.get(api) ?? 0) + 1);
        },
    });
    return { kafka, requests };
  }

  it('looks its coordinators up once, not before every transactional request', async () => {
    const { kafka, requests } = countingKafka();
    const producer = ctx.track(
      kafka.producer({
        transactionalId: `${ctx.connection.topicPrefix}coordinators`,
        idempotent: true,
        maxInFlightRequests: 1,
      }),
    );
    await producer.connect();
    const topic = ctx.topics.silver;
    const transact = async (i: number): Promise<void> => {
      const txn = await producer.transaction();
      await txn.send({
        topic,
        acks: -1,
        messages: [0, 1, 2].map((partition) => ({ partition, value: `v${i}` })),
      });
      await txn.sendOffsets({
        consumerGroupId: `${ctx.connection.topicPrefix}coordinators-group`,
        topics: [{ topic: ctx.topics.bronze, partitions: [{ partition: 0, offset: String(i) }] }],
      });
      await txn.commit();
    };
    // The first transaction finds both coordinators: one lookup each, more when a coordinator is
    // not ready yet (on a fresh broker the group's coordinator may answer NOT_COORDINATOR while it
    // loads its partition of __consumer_offsets; the patch retries that after a new lookup).
    await transact(0);
    // kafkajs names FindCoordinator "GroupCoordinator".
    const before = new Map(requests);
    expect(before.get('GroupCoordinator')).toBeGreaterThanOrEqual(2);
    const transactions = 10;
    for (let i = 1; i <= transactions; i++) await transact(i);
    const sent = (api: string): number => (requests.get(api) ?? 0) - (before.get(api) ?? 0);
    // No lookup after that (unpatched: 4 per transaction).
    expect(sent('GroupCoordinator')).toBe(0);
    expect(sent('EndTxn')).toBe(transactions);
    expect(sent('TxnOffsetCommit')).toBe(transactions);
  });

  it('looks the coordinator up again after a request to it failed', async () => {
    const { kafka, requests } = countingKafka();
    const transactionalId = `${ctx.connection.topicPrefix}refind`;
    const producer = ctx.track(kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1 }));
    await producer.connect();
    const topic = ctx.topics.silver;
    const first = await producer.transaction();
    await first.send({ topic, acks: -1, messages: [{ value: 'first' }] });
    await first.commit();
    const lookups = requests.get('GroupCoordinator') ?? 0;

    // Another producer with the same transactional id fences this one: its next request to the
    // coordinator fails (the epoch is stale), and the failure makes it forget the coordinator.
    const fencer = ctx.track(
      ctx.kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1 }),
    );
    await fencer.connect();
    const fence = await fencer.transaction();
    await fence.abort();
    // The first request after the fence goes to the remembered coordinator and fails; the next
    // transaction's first request looks the coordinator up again.
    const attempt = async (value: string): Promise<void> => {
      const txn = await producer.transaction();
      await expect(txn.send({ topic, acks: -1, messages: [{ value }] })).rejects.toThrow();
      await txn.abort().catch(() => undefined);
    };
    await attempt('fenced-1');
    expect(requests.get('GroupCoordinator')).toBe(lookups);
    await attempt('fenced-2');
    expect(requests.get('GroupCoordinator')).toBe(lookups + 1);
  });
});
