import {
  consumerLag,
  createDecoder,
  createRegistryClient,
  loadSchema,
  type EnrichedBookingChange,
} from '@cdc/core';
import {
  bookingChanges,
  bronzeEncoder,
  bronzeMessage,
  createTestContext,
  produceAll,
  readUntil,
  startCdc,
  testSeed,
  type TestContext,
} from '@cdc/testing';

/** `cdc enrich --from <time>`: rebuild silver from bronze starting at a point in time. */
describe('replaying bronze from a timestamp', () => {
  let ctx: TestContext;
  beforeEach(async () => {
    ctx = await createTestContext({ name: 'replay' });
  });
  afterEach(() => ctx.cleanup());

  const enrich = (args: string[]) =>
    ctx.track(startCdc(['enrich', '--ops-port', '0', ...args], { connection: ctx.connection }));

  it('enriches only the records at or after the time, and refuses a group that already has offsets', async () => {
    const registry = createRegistryClient(ctx.connection.registryUrl);
    const encoder = await bronzeEncoder(registry, ctx.topics.bronze);
    const seed = testSeed('cdc enrich --from');
    const now = Date.now();
    const stamp = (idPrefix: string, ts: number) =>
      bookingChanges(300, { seed, idPrefix, dirtyRatio: 0 }).map((c) => ({
        ...bronzeMessage(encoder, c),
        timestamp: String(ts),
      }));
    await produceAll(ctx.kafka, ctx.topics.bronze, [
      ...stamp('old', now - 3_600_000),
      ...stamp('new', now - 1000),
    ]);

    const group = `${ctx.connection.topicPrefix}replay`;
    const child = enrich(['--group-id', group, '--from', new Date(now - 60_000).toISOString()]);
    await child.waitFor(async () => (await consumerLag(ctx.admin, group, ctx.topics.bronze)) === 0, {
      timeoutMs: 60_000,
      intervalMs: 500,
      what: 'the replaying enricher to reach the end of bronze',
    });
    const silver = await readUntil(ctx, ctx.topics.silver, (m) => m.length >= 300, {
      isolation: 'read_committed',
    });
    const decoder = createDecoder<EnrichedBookingChange>(registry, loadSchema('EnrichedBookingChange').type);
    const ids = await Promise.all(silver.map(async (m) => (await decoder.decode(m.value)).event_id));
    expect(ids).toHaveLength(300);
    expect(ids.every((id) => id.startsWith('new'))).toBe(true);

    expect(await child.stop()).toBe(0);

    const again = enrich(['--group-id', group, '--from', String(now - 60_000)]);
    await again.expectExit(2);
    expect(again.stderr()).toContain('already has committed offsets');
  });
});
