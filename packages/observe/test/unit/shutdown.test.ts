import { EventEmitter } from 'node:events';
import { createLogger } from '@cdc/core';
import { loadShutdownTimeoutMs, Shutdown, type StopTarget } from '../../src';

const silent = createLogger('test', 'silent');

describe('Shutdown', () => {
  class FakeProcess extends EventEmitter {
    exits: number[] = [];
    exit = ((code?: number) => {
      this.exits.push(code ?? 0);
    }) as NodeJS.Process['exit'];
  }
  const make = (timeoutMs = 1000) => {
    const proc = new FakeProcess();
    const shutdown = new Shutdown({ timeoutMs, logger: silent, proc: proc as unknown as NodeJS.Process });
    return { proc, shutdown };
  };

  it('the first signal aborts the signal; a clean close exits 0', async () => {
    const { proc, shutdown } = make();
    proc.emit('SIGTERM', 'SIGTERM');
    expect(shutdown.signal.aborted).toBe(true);
    expect(await shutdown.requested).toBe('SIGTERM');
    const outcome = await shutdown.stop({ close: () => Promise.resolve() });
    expect(outcome).toMatchObject({ code: 0, abandoned: [], timedOut: false });
  });

  it('work left unfinished exits 1 and says what', async () => {
    const { shutdown } = make();
    const target: StopTarget = {
      close: () => Promise.resolve(),
      unfinishedWork: () => ['a transaction of 5 records'],
    };
    expect(await shutdown.stop(target, 'test')).toMatchObject({
      code: 1,
      abandoned: ['a transaction of 5 records'],
    });
  });

  it('the deadline ends a close that hangs: exit 0 when nothing was in flight', async () => {
    const { shutdown } = make(50);
    const outcome = await shutdown.stop({ close: () => new Promise<void>(() => undefined) }, 'test');
    expect(outcome).toMatchObject({ code: 0, timedOut: true });
  });

  it('a second signal exits at once with 130', () => {
    const { proc, shutdown } = make();
    shutdown.setTarget({ close: () => Promise.resolve(), unfinishedWork: () => ['x'] });
    proc.emit('SIGINT', 'SIGINT');
    proc.emit('SIGINT', 'SIGINT');
    expect(proc.exits).toEqual([130]);
  });

  it('SHUTDOWN_TIMEOUT_MS is validated (default 10 s)', () => {
    expect(loadShutdownTimeoutMs({})).toBe(10_000);
    expect(loadShutdownTimeoutMs({ SHUTDOWN_TIMEOUT_MS: '2500' })).toBe(2500);
    expect(() => loadShutdownTimeoutMs({ SHUTDOWN_TIMEOUT_MS: 'soon' })).toThrow(/SHUTDOWN_TIMEOUT_MS/);
    expect(() => loadShutdownTimeoutMs({ SHUTDOWN_TIMEOUT_MS: '0' })).toThrow(/SHUTDOWN_TIMEOUT_MS/);
  });
});
