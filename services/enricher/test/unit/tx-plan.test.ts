import type { Message } from '@cdc/core';
import {
  backoffMs,
  messageBytes,
  planOffsets,
  planSends,
  takeUnits,
  unitTotals,
  type TxUnit,
} from '../../src/tx-plan';

const msg = (key: string, bytes: number): Message => ({ key, value: Buffer.alloc(bytes) });

const unit = (partition: number, nextOffset: number, over: Partial<TxUnit> = {}): TxUnit => ({
  topic: 'bronze',
  partition,
  nextOffset,
  silver: [],
  deadLetters: [],
  recordsIn: 0,
  invalid: 0,
  deadLetterCodes: new Map(),
  generation: 1,
  ...over,
});

const topics = { silver: 'silver', deadLetter: 'dlq' };

describe('planSends', () => {
  it('keeps each topic in unit order and every request within the byte limit', () => {
    const units = [
      unit(0, 3, { silver: [msg('a1', 300), msg('a2', 300)], deadLetters: [msg('x', 100)] }),
      unit(1, 9, { silver: [msg('b1', 300), msg('b2', 300), msg('b3', 300)] }),
    ];
    const limit = 2 * messageBytes(msg('a1', 300)) + messageBytes(msg('x', 100));
    const sends = planSends(units, topics, limit);
    for (const request of sends) {
      const bytes = request.flatMap((t) => t.messages).reduce((s, m) => s + messageBytes(m), 0);
      expect(bytes).toBeLessThanOrEqual(limit);
    }
    const order = (topic: string) =>
      sends.flatMap((r) => r.filter((t) => t.topic === topic).flatMap((t) => t.messages.map((m) => m.key)));
    expect(order('silver')).toEqual(['a1', 'a2', 'b1', 'b2', 'b3']);
    expect(order('dlq')).toEqual(['x']);
    expect(sends.length).toBeGreaterThan(1);
  });

  it('sends a record larger than the limit on its own, and nothing for no records', () => {
    const sends = planSends(
      [unit(0, 1, { silver: [msg('small', 10), msg('big', 5000), msg('s2', 10)] })],
      topics,
      1000,
    );
    expect(sends.map((r) => r[0]!.messages.map((m) => m.key))).toEqual([['small'], ['big'], ['s2']]);
    expect(planSends([unit(0, 1)], topics, 1000)).toEqual([]);
  });

  it('counts keys, values and headers', () => {
    const m: Message = {
      key: 'abc',
      value: Buffer.alloc(10),
      headers: { h: 'xy', list: ['a', Buffer.from('bc')] },
    };
    expect(messageBytes(m)).toBe(70 + 10 + 3 + (8 + 1 + 2) + (8 + 4 + 1) + (8 + 4 + 2));
  });
});

describe('planOffsets', () => {
  it('commits, per partition, the offset after the last unit', () => {
    expect(planOffsets([unit(0, 10), unit(1, 5), unit(0, 20), unit(2, 7)])).toEqual([
      {
        topic: 'bronze',
        partitions: [
          { partition: 0, offset: '20' },
          { partition: 1, offset: '5' },
          { partition: 2, offset: '7' },
        ],
      },
    ]);
  });
});

describe('takeUnits', () => {
  it('takes from the front while the records fit, always at least one', () => {
    const queue = [10, 20, 30, 5].map((n, i) => ({ unit: unit(0, i, { recordsIn: n }) }));
    expect(takeUnits(queue, 35).map((p) => p.unit.recordsIn)).toEqual([10, 20]);
    expect(takeUnits(queue, 1).map((p) => p.unit.recordsIn)).toEqual([30]);
    expect(takeUnits(queue, 100).map((p) => p.unit.recordsIn)).toEqual([5]);
    expect(queue).toEqual([]);
  });
});

describe('unitTotals', () => {
  it('adds records and dead letters by code', () => {
    const t = unitTotals([
      unit(0, 1, {
        recordsIn: 3,
        silver: [msg('a', 1), msg('b', 1)],
        invalid: 1,
        deadLetterCodes: new Map([['X', 1]]),
      }),
      unit(1, 1, { recordsIn: 2, silver: [msg('c', 1)], deadLetterCodes: new Map([['X', 1]]) }),
    ]);
    expect(t).toEqual({ recordsIn: 5, recordsOut: 3, invalid: 1, deadLetterCodes: new Map([['X', 2]]) });
  });
});

describe('backoffMs', () => {
  it('doubles from the initial delay up to the cap, with ±20 % jitter', () => {
    const mid = () => 0.5;
    expect([1, 2, 3, 4, 10].map((a) => backoffMs(a, 100, 500, mid))).toEqual([100, 200, 400, 500, 500]);
    expect(backoffMs(1, 100, 500, () => 0)).toBe(80);
    expect(backoffMs(1, 100, 500, () => 0.999)).toBe(120);
  });
});
