import { createLogger } from '@cdc/core';
import { Cleanups } from '../../src';

describe('Cleanups', () => {
  it('runs the steps newest first, once, past a step that throws', async () => {
    const logger = createLogger('test', 'silent');
    const warn = jest.spyOn(logger, 'warn');
    const ran: string[] = [];
    const c = new Cleanups(logger);
    c.push(() => void ran.push('store'));
    c.push(() => Promise.reject(new Error('broker gone')));
    c.push(() => void ran.push('consumer'));
    await c.run();
    await c.run();
    expect(ran).toEqual(['consumer', 'store']);
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it('a start that fails undoes what it made, and rethrows', async () => {
    const ran: string[] = [];
    const c = new Cleanups(createLogger('test', 'silent'));
    const start = c.starting(async () => {
      c.push(() => void ran.push('producer'));
      throw new Error('registry down');
    });
    await expect(start).rejects.toThrow('registry down');
    expect(ran).toEqual(['producer']);
  });
});
