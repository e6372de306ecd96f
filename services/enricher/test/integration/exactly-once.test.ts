import {
  createRegistryClient,
  sleep,
  waitFor,
  memberAssignment,
  type Message,
  type Producer,
} from '@cdc/core';
import {
  bookingChanges,
  bronzeEncoder,
  bronzeMessage,
  CHURN_MIX,
  createTestContext,
  decodeSilver,
  readToEnd,
  seededRandom,
  testSeed,
  type TestContext,
} from '@cdc/testing';
import { committedSum, outOfOrderBookings, spawnEnricher, waitForGroupCaughtUp } from '../helpers/kafka';

/**
 * Exactly once under crashes, with the enricher running as a process (`node bin/cdc.js enrich`,
 * from the built dist: run `npx tsc -b` first). Short session and transaction timeouts keep the
 * tests bounded: a killed member leaves the group after 6 s, and an open transaction of an
 * instance that never comes back is aborted by the broker after 10 s (plus its abort scan).
 */
const FAST = {
  ENRICHER_SESSION_TIMEOUT_MS: '6000',
  ENRICHER_HEARTBEAT_INTERVAL_MS: '1000',
  ENRICHER_TRANSACTION_TIMEOUT_MS: '10000',
  ENRICHER_CHUNK_RECORDS: '300',
};

/** Writes `messages` to bronze a slice at a time, pausing between slices, in the background. */
function trickle(producer: Producer, topic: string, messages: Message[], perSend: number, pauseMs: number) {
  const progress = { produced: 0 };
  const done = (async () => {
    for (let i = 0; i < messages.length; i += perSend) {
      await producer.send({ topic, acks: -1, messages: messages.slice(i, i + perSend) });
      progress.produced = Math.min(messages.length, i + perSend);
      await sleep(pauseMs);
    }
  })();
  return { progress, done };
}

/** Bronze input for a test: `total` changes over `bookings` bookings, trickled in the background. */
async function trickleChanges(
  ctx: TestContext,
  o: { seed: number; total: number; bookings: number; idPrefix: string; perSend: number; pauseMs: number },
) {
  const encoder = await bronzeEncoder(createRegistryClient(ctx.connection.registryUrl), ctx.topics.bronze);
  const changes = bookingChanges(o.total, {
    seed: o.seed,
    liveBookings: o.bookings,
    idPrefix: o.idPrefix,
    mix: CHURN_MIX,
  });
  const producer = ctx.track(ctx.kafka.producer({ idempotent: true, maxInFlightRequests: 1 }));
  await producer.connect();
  const messages = changes.map((c) => bronzeMessage(encoder, c));
  return { changes, input: trickle(producer, ctx.topics.bronze, messages, o.perSend, o.pauseMs) };
}

async function expectExactlyOnce(ctx: TestContext, eventIds: string[]): Promise<void> {
  const silver = await decodeSilver(ctx, await readToEnd(ctx, ctx.topics.silver, { timeoutMs: 90_000 }));
  const seen = new Map<string, number>();
  for (const s of silver) seen.set(s.event_id, (seen.get(s.event_id) ?? 0) + 1);
  const duplicated = [...seen].filter(([, n]) => n > 1).map(([id]) => id);
  const missing = eventIds.filter((id) => !seen.has(id));
  expect({ duplicated: duplicated.slice(0, 10), missing: missing.slice(0, 10) }).toEqual({
    duplicated: [],
    missing: [],
  });
  expect(silver).toHaveLength(eventIds.length);
  expect(outOfOrderBookings(silver)).toEqual([]);
  const dlq = await readToEnd(ctx, ctx.topics.deadLetter);
  expect(dlq).toHaveLength(0);
}

describe('enricher: exactly once across crashes', () => {
  let ctx: TestContext;

  afterEach(() => ctx.cleanup());

  it('holds every event_id exactly once while the process is SIGKILLed 5 times at random moments', async () => {
    ctx = await createTestContext({ name: 'enr-kill', partitions: 3 });
    const seed = testSeed('enricher killed 5 times');
    const random = seededRandom(seed + 10); // when to kill
    const TOTAL = 20_000;
    const groupId = `${ctx.connection.topicPrefix}cdc-enricher`;
    const { changes, input } = await trickleChanges(ctx, {
      seed,
      total: TOTAL,
      bookings: 2500,
      idPrefix: 'k',
      perSend: 400,
      pauseMs: 700,
    });

    const env = { ...FAST, ENRICHER_INSTANCE_ID: 'kill-test' };
    let current = spawnEnricher(ctx, env);
    let kills = 0;
    while (kills < 5) {
      // Kill while it works: after this incarnation has committed something, at a random moment.
      const before = await committedSum(ctx, groupId, ctx.topics.bronze);
      if (input.progress.produced < TOTAL) {
        await current.waitFor(async () => (await committedSum(ctx, groupId, ctx.topics.bronze)) > before, {
          timeoutMs: 60_000,
          what: `progress of enricher incarnation ${kills + 1}`,
        });
      }
      await sleep(random.int(0, 1500));
      await current.kill();
      kills += 1;
      current = spawnEnricher(ctx, env);
    }
    await input.done;
    await waitForGroupCaughtUp(ctx, groupId, ctx.topics.bronze, 90_000);
    await expectExactlyOnce(
      ctx,
      changes.map((c) => c.event_id),
    );

    // And a clean stop: SIGTERM ends the last incarnation with exit code 0.
    expect(await current.stop()).toBe(0);
  });

  it('splits the partitions between two instances; killing one keeps exactly once', async () => {
    ctx = await createTestContext({ name: 'enr-two', partitions: 4 });
    const seed = testSeed('enricher, two instances');
    const random = seededRandom(seed + 10); // when to kill
    const TOTAL = 12_000;
    const groupId = `${ctx.connection.topicPrefix}cdc-enricher`;
    const { changes, input } = await trickleChanges(ctx, {
      seed,
      total: TOTAL,
      bookings: 2000,
      idPrefix: 'two',
      perSend: 300,
      pauseMs: 500,
    });

    const a = spawnEnricher(ctx, { ...FAST, ENRICHER_INSTANCE_ID: 'a' });
    const b = spawnEnricher(ctx, { ...FAST, ENRICHER_INSTANCE_ID: 'b' });

    // Both members hold partitions.
    await waitFor(
      async () => {
        const { groups } = await ctx.admin.describeGroups([groupId]);
        const members = groups[0]?.members ?? [];
        if (groups[0]?.state !== 'Stable' || members.length !== 2) return false;
        return members.every((m) => {
          const assignment = memberAssignment(m.memberAssignment);
          return (assignment[ctx.topics.bronze] ?? []).length > 0;
        });
      },
      { timeoutMs: 60_000, what: 'two members sharing the partitions' },
    );
    const before = await committedSum(ctx, groupId, ctx.topics.bronze);
    await waitFor(async () => (await committedSum(ctx, groupId, ctx.topics.bronze)) > before + 1000, {
      timeoutMs: 60_000,
      what: 'progress with two instances',
    });
    await sleep(random.int(0, 1000));
    await b.kill();
    expect(input.progress.produced).toBeLessThan(TOTAL);

    await input.done;
    await waitForGroupCaughtUp(ctx, groupId, ctx.topics.bronze, 90_000);
    await expectExactlyOnce(
      ctx,
      changes.map((c) => c.event_id),
    );
    expect(await a.stop()).toBe(0);
  });
});
