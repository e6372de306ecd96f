import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import {
  consumerLag,
  createDecoder,
  createRegistryClient,
  loadSchema,
  waitFor,
  type EnrichedBookingChange,
} from '@cdc/core';
import {
  bookingChanges,
  bronzeEncoder,
  bronzeMessage,
  createTestContext,
  produceAll,
  readUntil,
  testSeed,
  type TestContext,
} from '@cdc/testing';

/** `cdc enrich --from <time>`: rebuild silver from bronze starting at a point in time. */
const CDC = path.resolve(__dirname, '../../../../bin/cdc.js');

describe('replaying bronze from a timestamp', () => {
  let ctx: TestContext;
  let child: ChildProcess | undefined;
  beforeEach(async () => {
    ctx = await createTestContext({ name: 'replay' });
  });
  afterEach(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    await ctx.cleanup();
  });

  const enrich = (args: string[]) =>
    spawn(process.execPath, [CDC, 'enrich', '--ops-port', '0', ...args], {
      env: { ...process.env, TOPIC_PREFIX: ctx.connection.topicPrefix, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });

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
    child = enrich(['--group-id', group, '--from', new Date(now - 60_000).toISOString()]);
    await waitFor(async () => (await consumerLag(ctx.admin, group, ctx.topics.bronze)) === 0, {
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

    const exited = new Promise((r) => child!.once('exit', r));
    child.kill('SIGTERM');
    await exited;

    const again = enrich(['--group-id', group, '--from', String(now - 60_000)]);
    let stderr = '';
    again.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise((r) => again.once('exit', r));
    expect(code).toBe(2);
    expect(stderr).toContain('already has committed offsets');
  });
});
