import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { waitFor } from '@cdc/core';
import { createTestContext, type TestContext } from '@cdc/testing';

/** `node bin/cdc.js produce ...` as a user runs it (needs `npx tsc -b` first). */
const CDC = path.resolve(__dirname, '../../../../bin/cdc.js');

interface Proc {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function cdc(args: string[], env: Record<string, string>): Proc {
  const child = spawn(process.execPath, [CDC, ...args], {
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

async function recordsOn(ctx: TestContext, topic: string): Promise<number> {
  const offsets = await ctx.admin.fetchTopicOffsets(topic);
  return offsets.reduce((sum, p) => sum + Number(p.high), 0);
}

describe('cdc produce (process)', () => {
  let ctx: TestContext;
  const running: Proc[] = [];
  beforeEach(async () => {
    ctx = await createTestContext({ name: 'producer-cli' });
  });
  afterEach(async () => {
    for (const p of running.splice(0)) {
      if (p.child.exitCode === null) p.child.kill('SIGKILL');
      await p.exited;
    }
    await ctx.cleanup();
  });

  it('stops cleanly on SIGINT: exit 0, a summary of exactly what was acknowledged', async () => {
    const p = cdc(['produce', '--rate', '300', '--ops-port', '0', '--json'], {
      TOPIC_PREFIX: ctx.connection.topicPrefix,
    });
    running.push(p);
    await waitFor(async () => (await recordsOn(ctx, ctx.topics.bronze)) >= 100, {
      timeoutMs: 30_000,
      what: 'events from the producer process',
    });
    p.child.kill('SIGINT');
    expect(await p.exited).toBe(0);
    const summary = JSON.parse(p.stdout()) as { status: string; acknowledgedTotal: number; notSent: number };
    expect(summary.status).toBe('stopped');
    expect(summary.acknowledgedTotal).toBe(await recordsOn(ctx, ctx.topics.bronze));
    expect(p.stderr()).toContain('SIGINT: stopping');
    expect(p.stderr()).toContain('ops endpoints on /healthz and /metrics');
    expect(p.stderr()).not.toContain('Limiting retries');
  });

  it('prints a per-operation summary of a scenario', async () => {
    const p = cdc(['produce', '--scenario', 'seed'], { TOPIC_PREFIX: ctx.connection.topicPrefix });
    running.push(p);
    expect(await p.exited).toBe(0);
    expect(p.stdout()).toMatch(/^completed: 7 events acknowledged/);
    expect(p.stdout()).toMatch(/create\s+5\n\s+cancel\s+2\n/);
  });

  it('exits non-zero with a clear error when the broker cannot be reached', async () => {
    const p = cdc(['produce', '--count', '10'], {
      TOPIC_PREFIX: ctx.connection.topicPrefix,
      KAFKA_BROKERS: '127.0.0.1:1',
      LOG_LEVEL: 'fatal',
    });
    running.push(p);
    expect(await p.exited).toBe(1);
    expect(p.stderr()).toMatch(/error \[BROKER_UNAVAILABLE\]: cannot use Kafka at 127\.0\.0\.1:1/);
  });
});
