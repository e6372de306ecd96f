import { createTestContext, endOffsets, highWatermarks, readToEnd, type TestContext } from '../../src';

/**
 * Reading a transactional topic back. A killed instance leaves its transaction open until the
 * broker aborts it; records committed meanwhile by others lie past the topic's last stable offset.
 * `readToEnd` must wait for that transaction's outcome and return them, not stop at the open one.
 */
describe('readToEnd on a topic with an open transaction', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext({ name: 'read-open-txn', partitions: 1 });
  });
  afterAll(() => ctx.cleanup());

  it('waits for the open transaction and returns what was committed after it began', async () => {
    const topic = ctx.topics.silver;
    const open = ctx.track(
      ctx.kafka.producer({
        transactionalId: `${ctx.connection.topicPrefix}read-test`,
        idempotent: true,
        maxInFlightRequests: 1,
      }),
    );
    await open.connect();
    const txn = await open.transaction();
    await txn.send({ topic, acks: -1, messages: [{ value: 'aborted-1' }, { value: 'aborted-2' }] });

    const plain = ctx.track(ctx.kafka.producer({ idempotent: true, maxInFlightRequests: 1 }));
    await plain.connect();
    await plain.send({
      topic,
      acks: -1,
      messages: ['after-1', 'after-2', 'after-3'].map((value) => ({ value })),
    });

    // What a read-committed consumer can reach stops at the open transaction; the records are there.
    expect(await endOffsets(ctx, topic)).toEqual(new Map([[0, 0]]));
    expect(await highWatermarks(ctx, topic)).toEqual(new Map([[0, 5]]));

    const read = readToEnd(ctx, topic, { timeoutMs: 30_000 });
    await txn.abort();
    const values = (await read).map((m) => m.value?.toString());
    expect(values).toEqual(['after-1', 'after-2', 'after-3']);
  });
});
