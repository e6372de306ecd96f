import { enricherRecord, waitFor } from '@cdc/core';
import {
  createTestContext,
  endOffsets,
  highWatermarks,
  testControlClient,
  type TestContext,
} from '@cdc/testing';
import { spawnEnricher } from '../helpers/kafka';

/**
 * An instance killed mid-transaction that never comes back leaves its transaction open; until it
 * ends, read-committed readers of silver (the aggregator) cannot get past it. The surviving
 * instance fences it when it joins, long before the broker would time the transaction out.
 */
describe('enricher: an instance gone for good is fenced by the one that stays', () => {
  let ctx: TestContext;
  afterEach(() => ctx.cleanup());

  it('aborts the open transaction of an instance that acknowledged and left the group', async () => {
    ctx = await createTestContext({ name: 'enr-fence', partitions: 1 });
    const groupId = `${ctx.connection.topicPrefix}cdc-enricher`;
    const silver = ctx.topics.silver;

    // The instance that is gone: it acknowledged on the control topic as enrichers do, then was
    // killed with a transaction open on silver (its timeout far beyond this test's waits).
    await testControlClient(ctx).write([
      enricherRecord({
        group_id: groupId,
        instance_id: 'gone',
        member_id: 'gone-1',
        epoch: 0,
        acked_at: Date.now(),
      }),
    ]);
    const gone = ctx.track(
      ctx.kafka.producer({
        transactionalId: `${groupId}.gone`,
        idempotent: true,
        maxInFlightRequests: 1,
        transactionTimeout: 600_000,
      }),
    );
    await gone.connect();
    const txn = await gone.transaction();
    await txn.send({ topic: silver, acks: -1, messages: [{ key: 'b1', value: 'half-written' }] });
    expect(await endOffsets(ctx, silver)).toEqual(new Map([[0, 0]]));

    const survivor = spawnEnricher(ctx, { ENRICHER_INSTANCE_ID: 'stays', LOG_LEVEL: 'info' });
    await waitFor(
      async () => {
        const [stable, high] = await Promise.all([endOffsets(ctx, silver), highWatermarks(ctx, silver)]);
        return stable.get(0) === high.get(0) && (high.get(0) ?? 0) > 1;
      },
      { timeoutMs: 60_000, what: "silver's last stable offset to pass the open transaction" },
    );
    await survivor.waitForOutput('fenced an instance that left the group');
    expect(await survivor.stop()).toBe(0);
  });
});
