import { createLogger } from '@cdc/core';
import { ProgressReporter, recentRate } from '../../src';

const notTerminal = { isTTY: false } as NodeJS.WriteStream;

describe('ProgressReporter', () => {
  it('auto draws log lines off a terminal, at most one per interval unless forced', () => {
    const logger = createLogger('test', 'silent');
    const info = jest.spyOn(logger, 'info');
    const r = new ProgressReporter({ logger, stream: notTerminal, format: '{bar}', logEveryMs: 60_000 });
    expect(r.mode).toBe('log');
    r.update(1, {}, 10); // no bar off a terminal
    r.log('progress', { done: 1 });
    r.log('progress', { done: 2 });
    r.log('progress', { done: 10 }, true);
    expect(info.mock.calls).toEqual([
      [{ done: 1 }, 'progress'],
      [{ done: 10 }, 'progress'],
    ]);
  });

  it('none draws nothing', () => {
    const logger = createLogger('test', 'silent');
    const info = jest.spyOn(logger, 'info');
    const r = new ProgressReporter({ mode: 'none', logger, format: '{bar}' });
    r.log('progress', {}, true);
    r.stop();
    expect(info).not.toHaveBeenCalled();
  });
});

test('recentRate: per second since the previous call', () => {
  let t = 0;
  const rate = recentRate(() => t);
  t = 2000;
  expect(rate(100)).toBe(50);
  t = 3000;
  expect(rate(400)).toBe(300);
});
