import { createTestContext, runCdc, startCdc, type TestContext } from '../../src';

/** The helper that runs `cdc` as a child process (the compiled CLI: `npm run build` first). */
describe('startCdc', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext({ name: 'cdc-process' });
  });
  afterAll(() => ctx.cleanup());

  it('captures the output and checks the exit code, showing the output when it is not the expected one', async () => {
    const list = startCdc(['produce', '--list-scenarios']);
    await list.expectExit(0);
    expect(list.stdout()).toMatch(/^seed\s/m);

    const bad = startCdc(['produce', '--speed', '10']);
    const failure = await bad.expectExit(0).catch((err: Error) => err);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toContain('cdc produce --speed 10 exited 2, expected 0');
    expect((failure as Error).message).toContain("unknown option '--speed'");
  });

  it('runs a command to its end: exit code and both outputs', async () => {
    const list = await runCdc(['produce', '--list-scenarios']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^seed\s/m);
    const bad = await runCdc(['produce', '--speed', '10']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("unknown option '--speed'");
  });

  it('pauses and resumes a process; stopping a paused one resumes it to act on the signal', async () => {
    const producer = ctx.track(
      startCdc(['produce', '--rate', '20', '--ops-port', '0', '--no-progress'], {
        connection: ctx.connection,
        env: { LOG_LEVEL: 'info' },
      }),
    );
    await producer.waitForOutput('ops endpoints on /healthz and /metrics', { stream: 'stderr' });
    producer.pause();
    producer.resume();
    producer.pause();
    expect(producer.running()).toBe(true);
    expect(await producer.stop('SIGINT')).toBe(0);
  });

  it('fails a wait at once when the process ends first (not at the timeout)', async () => {
    const bad = startCdc(['produce', '--rate', 'fast']);
    await expect(bad.waitForOutput('never printed', { timeoutMs: 60_000 })).rejects.toThrow(
      /ended while waiting for .*never printed[\s\S]*--rate must be a positive number/,
    );
  });

  it('waits for a log line, stops with a signal, and kills on close', async () => {
    const producer = ctx.track(
      startCdc(['produce', '--rate', '20', '--ops-port', '0', '--no-progress'], {
        connection: ctx.connection,
        env: { LOG_LEVEL: 'info' },
      }),
    );
    await producer.waitForOutput('ops endpoints on /healthz and /metrics', { stream: 'stderr' });
    expect(await producer.stop('SIGINT')).toBe(0);

    const another = startCdc(['produce', '--rate', '20', '--ops-port', '0', '--no-progress'], {
      connection: ctx.connection,
    });
    expect(another.running()).toBe(true);
    await another.close();
    expect(another.running()).toBe(false);
    expect(await another.exited).toBeNull(); // ended by SIGKILL
  });
});
