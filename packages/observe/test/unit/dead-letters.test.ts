import { DeadLetterCounter } from '../../src';

describe('DeadLetterCounter', () => {
  it('counts records by reading, again only when the offsets moved', async () => {
    const counter = new DeadLetterCounter();
    const read = jest.fn().mockResolvedValueOnce(1).mockResolvedValueOnce(2);
    const at = (high: number) => [{ partition: 0, low: 0, high }];
    // One dead letter and its transaction's commit marker: two offsets, one record.
    expect(await counter.count(at(2), read)).toBe(1);
    expect(await counter.count(at(2), read)).toBe(1);
    expect(read).toHaveBeenCalledTimes(1);
    expect(await counter.count(at(4), read)).toBe(2);
    expect(read).toHaveBeenCalledTimes(2);
  });

  it('an empty topic holds none, without reading it', async () => {
    const read = jest.fn();
    expect(await new DeadLetterCounter().count([{ partition: 0, low: 3, high: 3 }], read)).toBe(0);
    expect(read).not.toHaveBeenCalled();
  });
});
