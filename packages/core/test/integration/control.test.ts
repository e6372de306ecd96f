import {
  enricherRecord,
  settingsRecord,
  waitFor,
  type ControlRecord,
  type DerivationSettings,
} from '../../src';
import { createTestContext, testControlClient, type TestContext } from '@cdc/testing';

/** The control topic: settings written by one client are read back, and heard, by another. */
describe('control topic', () => {
  let ctx: TestContext;
  beforeEach(async () => {
    ctx = await createTestContext({ name: 'control' });
  });
  afterEach(() => ctx.cleanup());

  const client = () => testControlClient(ctx);

  it('round-trips the settings and acknowledgements, and a running reader hears changes', async () => {
    const writer = client();
    const reader = client();
    expect((await reader.read()).settings).toBeNull();

    const utc: DerivationSettings = {
      time_zone: 'UTC',
      rules_version: '1',
      epoch: 0,
      since: Date.now(),
      set_by: 'test',
    };
    await writer.write([settingsRecord(utc)]);
    expect((await client().read()).settings).toEqual(utc);

    expect((await reader.read()).settings).toEqual(utc); // the reader is past it before it listens
    const heard: ControlRecord[] = [];
    reader.listen((r) => heard.push(r));
    const ny = { ...utc, time_zone: 'America/New_York', epoch: 1, since: Date.now() };
    const ack = { group_id: 'g', instance_id: 'enricher-0', member_id: 'm', epoch: 1, acked_at: Date.now() };
    await writer.write([settingsRecord(ny), enricherRecord(ack)]);
    await waitFor(() => heard.length >= 2, { timeoutMs: 20_000, what: 'the reader to hear both records' });
    expect(heard.map((r) => r.key)).toEqual(['derivation-settings', 'enricher/g/enricher-0']);
    expect(reader.state.settings).toEqual(ny);
    expect([...(await reader.read()).enrichers.values()]).toEqual([ack]);
  });
});
