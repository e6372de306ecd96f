import { createTestContext, startCdc, type CdcProcess, type TestContext } from '@cdc/testing';

async function recordsOn(ctx: TestContext, topic: string): Promise<number> {
  const offsets = await ctx.admin.fetchTopicOffsets(topic);
  return offsets.reduce((sum, p) => sum + Number(p.high), 0);
}

/** `node bin/cdc.js produce ...` as a user runs it (needs `npm run build` first). */
describe('cdc produce (process)', () => {
  let ctx: TestContext;
  beforeEach(async () => {
    ctx = await createTestContext({ name: 'producer-cli' });
  });
  afterEach(() => ctx.cleanup());

  /** `cdc <args>` on this test's topics, logging at info, killed by ctx.cleanup(). */
  const cdc = (args: string[], env: Record<string, string> = {}): CdcProcess =>
    ctx.track(startCdc(args, { connection: ctx.connection, env: { LOG_LEVEL: 'info', ...env } }));

  it('stops cleanly on SIGINT: exit 0, a summary of exactly what was acknowledged', async () => {
    const p = cdc(['produce', '--rate', '300', '--ops-port', '0', '--json']);
    await p.waitFor(async () => (await recordsOn(ctx, ctx.topics.bronze)) >= 100, {
      timeoutMs: 30_000,
      what: 'events from the producer process',
    });
    expect(await p.stop('SIGINT')).toBe(0);
    const summary = JSON.parse(p.stdout()) as { status: string; acknowledgedTotal: number; notSent: number };
    expect(summary.status).toBe('stopped');
    expect(summary.acknowledgedTotal).toBe(await recordsOn(ctx, ctx.topics.bronze));
    expect(p.stderr()).toContain('SIGINT: stopping');
    expect(p.stderr()).toContain('ops endpoints on /healthz and /metrics');
    expect(p.stderr()).not.toContain('Limiting retries');
  });

  it('prints a per-operation summary of a scenario', async () => {
    const p = cdc(['produce', '--scenario', 'seed']);
    await p.expectExit(0);
    expect(p.stdout()).toMatch(/^completed: 7 events acknowledged/);
    expect(p.stdout()).toMatch(/create\s+5\n\s+cancel\s+2\n/);
  });

  it('exits non-zero with a clear error when the broker cannot be reached', async () => {
    const p = cdc(['produce', '--count', '10', '--max-outage', '3s'], {
      KAFKA_BROKERS: '127.0.0.1:1',
      LOG_LEVEL: 'fatal',
    });
    await p.expectExit(1);
    expect(p.stderr()).toMatch(/error \[UNAVAILABLE\]: cannot use Kafka at 127\.0\.0\.1:1/);
  });
});
