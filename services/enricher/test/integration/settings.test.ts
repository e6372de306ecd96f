import {
  createRegistryClient,
  settingsRecord,
  sleep,
  waitFor,
  type ControlClient,
  type DerivationSettings,
} from '@cdc/core';
import {
  bookingChanges,
  bronzeEncoder,
  bronzeMessage,
  createTestContext,
  decodeSilver,
  readToEnd,
  testControlClient,
  testSeed,
  type TestContext,
} from '@cdc/testing';
import { RULES_VERSION } from '@cdc/bookings';
import { spawnEnricher, waitForGroupCaughtUp } from '../helpers/kafka';

/**
 * Derivation settings are pipeline state (the control topic): an enricher started with another
 * zone refuses to start; a running one switches to new settings without a restart and
 * acknowledges the epoch once nothing of the old one is in flight.
 */
const FAST = {
  ENRICHER_SESSION_TIMEOUT_MS: '6000',
  ENRICHER_HEARTBEAT_INTERVAL_MS: '1000',
  ENRICHER_CHUNK_RECORDS: '100',
};

describe('enricher: derivation settings from the control topic', () => {
  let ctx: TestContext;
  let control: ControlClient;

  beforeEach(async () => {
    ctx = await createTestContext({ name: 'enr-settings', partitions: 3 });
    control = testControlClient(ctx);
  });
  // Kills the enricher processes too (spawnEnricher gives them to the context).
  afterEach(() => ctx.cleanup());

  const utc: DerivationSettings = {
    time_zone: 'UTC',
    rules_version: RULES_VERSION,
    epoch: 0,
    since: Date.now(),
    set_by: 'test',
  };

  it('refuses to start with a --time-zone the pipeline does not use, saying how to change it', async () => {
    await control.write([settingsRecord(utc)]);
    const p = spawnEnricher(ctx, { ...FAST, ENRICHER_TIME_ZONE: 'America/New_York' });
    await p.expectExit(2);
    expect(p.stderr()).toContain('this pipeline derives in UTC');
    expect(p.stderr()).toContain('cdc backfill --time-zone America/New_York');
    // Nothing was changed.
    expect((await control.read()).settings).toEqual(utc);
  });

  it('records its settings on a new pipeline, then switches epoch without a restart and acknowledges', async () => {
    const groupId = `${ctx.connection.topicPrefix}cdc-enricher`;
    const encoder = await bronzeEncoder(createRegistryClient(ctx.connection.registryUrl), ctx.topics.bronze);
    // Booking dates within 30 days before 2025-09-03: New York is UTC-4 for all of them.
    const changes = bookingChanges(3000, {
      seed: testSeed('enricher settings switch'),
      idPrefix: 'sw',
      liveBookings: 400,
      dirtyRatio: 0,
    });
    const messages = changes.map((c) => bronzeMessage(encoder, c));
    const producer = ctx.track(ctx.kafka.producer({ idempotent: true, maxInFlightRequests: 1 }));
    await producer.connect();
    const send = (from: number, to: number) =>
      producer.send({ topic: ctx.topics.bronze, acks: -1, messages: messages.slice(from, to) });

    const p = spawnEnricher(ctx, { ...FAST, ENRICHER_INSTANCE_ID: 'sw' });
    await waitFor(async () => (await control.read()).enrichers.get(`enricher/${groupId}/sw`), {
      timeoutMs: 60_000,
      what: 'the enricher to record its settings and acknowledge epoch 0',
    });
    expect(control.state.settings).toMatchObject({
      time_zone: 'UTC',
      rules_version: RULES_VERSION,
      epoch: 0,
    });
    expect(control.state.settings?.set_by).toContain('first start');

    // Trickle records while the settings change under the running enricher.
    let sent = 0;
    const trickle = (async () => {
      for (; sent < 2000; sent += 100) {
        await send(sent, sent + 100);
        await sleep(100);
      }
    })();
    await waitFor(() => sent >= 600, { timeoutMs: 30_000, what: 'some records before the switch' });
    const ny = { ...utc, time_zone: 'America/New_York', epoch: 1, since: Date.now(), set_by: 'test switch' };
    await control.write([settingsRecord(ny)]);
    const ack = await waitFor(
      async () => {
        const a = (await control.read()).enrichers.get(`enricher/${groupId}/sw`);
        return a && a.epoch === 1 ? a : undefined;
      },
      { timeoutMs: 30_000, what: 'the enricher to acknowledge epoch 1' },
    );
    const { groups } = await ctx.admin.describeGroups([groupId]);
    expect(groups[0]?.members.map((m) => m.memberId)).toEqual([ack.member_id]);
    await trickle;
    // Produced after the acknowledgement: must be derived with the new settings.
    const lateIds = new Set(changes.slice(2000).map((c) => c.event_id));
    await send(2000, 3000);
    await waitForGroupCaughtUp(ctx, groupId, ctx.topics.bronze, 60_000);

    const silver = await readToEnd(ctx, ctx.topics.silver);
    const records = await decodeSilver(ctx, silver);
    expect(records).toHaveLength(3000);
    const late = records.filter((r) => lateIds.has(r.event_id));
    expect(late).toHaveLength(1000);
    expect(late.every((r) => r.derivation_epoch === 1 && r.time_zone === 'America/New_York')).toBe(true);
    expect(records.some((r) => r.derivation_epoch === 0 && r.time_zone === 'UTC')).toBe(true);
    // The switch happens between chunks: in each partition no epoch-0 record follows an epoch-1 one.
    const byPartition = new Map<number, number[]>();
    silver.forEach((m, i) => {
      byPartition.set(m.partition, [...(byPartition.get(m.partition) ?? []), records[i]!.derivation_epoch]);
    });
    for (const epochs of byPartition.values()) expect(epochs).toEqual([...epochs].sort((a, b) => a - b));
    for (const r of records) {
      const hour = new Date(r.after?.booking_date ?? r.before!.booking_date).getUTCHours();
      const expected = r.time_zone === 'UTC' ? hour : (hour + 20) % 24; // New York is UTC-4 in September
      expect((r.after ?? r.before)!.booking_hour).toBe(expected);
    }
    expect(await p.stop('SIGTERM')).toBe(0);
  });
});
