import type { OffsetsAdmin } from '@cdc/core';
import { committedLag, groupLag, lagOf } from '../../src';

const ends = [
  { partition: 0, low: 0, high: 10 },
  { partition: 1, low: 5, high: 8 },
];

describe('lagOf', () => {
  it('counts from the committed offset, or from the start of a partition without one', () => {
    const lag = lagOf(ends, new Map([[0, { offset: 7 }]]));
    expect(lag.partitions.map((p) => [p.partition, p.committed, p.lag])).toEqual([
      [0, 7, 3],
      [1, null, 3],
    ]);
    expect(lag).toMatchObject({ total: 6, committedAny: true });
    expect(committedLag(lag)).toBe(6);
  });

  it('forgives a transaction marker per partition, never below zero', () => {
    const lag = lagOf(
      ends,
      new Map([
        [0, { offset: 9 }],
        [1, { offset: 8 }],
      ]),
      1,
    );
    expect(lag.partitions.map((p) => p.lag)).toEqual([0, 0]);
  });

  it('a group that committed nothing has no lag to tell (null), though offsets remain', () => {
    const lag = lagOf(ends, new Map());
    expect(lag).toMatchObject({ total: 13, committedAny: false });
    expect(committedLag(lag)).toBeNull();
  });
});

describe('groupLag', () => {
  it("reads the topic's last stable offsets and the group's commits, with their metadata", async () => {
    const admin: OffsetsAdmin = {
      fetchTopicOffsets: () =>
        Promise.resolve([
          { partition: 1, offset: '8', low: '5', high: '8' },
          { partition: 0, offset: '10', low: '0', high: '10' },
        ]),
      fetchOffsets: () =>
        Promise.resolve([
          {
            topic: 't',
            partitions: [
              { partition: 0, offset: '4', metadata: 't=1000' },
              { partition: 1, offset: '-1', metadata: null },
            ],
          },
        ]),
    };
    const lag = await groupLag(admin, 'g', 't');
    expect(lag.partitions).toEqual([
      { partition: 0, committed: 4, end: 10, lag: 6, metadata: 't=1000' },
      { partition: 1, committed: null, end: 8, lag: 3, metadata: null },
    ]);
  });
});
