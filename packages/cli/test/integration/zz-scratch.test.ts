import { sleep } from '@cdc/core';
import { createTestContext, startCdc, startFaultStack } from '@cdc/testing';
import { healthz, opsPortOf } from '../support/faults';

test('scratch', async () => {
  const stack = await startFaultStack('scratch');
  const ctx = await createTestContext({ name: 'scratch', env: stack.env });
  const p = startCdc(['produce', '--rate', '500', '--ops-port', '0', '--no-progress'], {
    connection: ctx.connection,
    env: { LOG_LEVEL: process.env.SCRATCH_LEVEL ?? 'info' },
  });
  try {
    const port = await opsPortOf(p);
    await sleep(3000);
    await stack.kafka.stop();
    await sleep(10000);
    await stack.kafka.start();
    const t0 = Date.now();
    for (let i = 0; i < 30; i++) {
      const h = await healthz(port).catch((e: Error) => ({ status: 0, body: { e: e.message } }));
      process.stdout.write(`${Date.now() - t0} ${JSON.stringify(h)}\n`);
      await sleep(1000);
    }
  } finally {
    process.stdout.write(
      p
        .stderr()
        .split('\n')
        .map((l) => l.slice(0, 400))
        .join('\n'),
    );
    await p.kill();
    await ctx.cleanup().catch(() => undefined);
    await stack.cleanup();
  }
}, 300_000);
