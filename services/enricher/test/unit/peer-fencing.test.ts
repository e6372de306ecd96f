import type { EnricherAck } from '@cdc/core';
import { departedInstances } from '../../src/peer-fencing';

const ack = (instance_id: string, member_id: string, group_id = 'g'): EnricherAck => ({
  group_id,
  instance_id,
  member_id,
  epoch: 0,
  acked_at: 0,
});

describe('departedInstances', () => {
  const acks = [ack('a', 'a-1'), ack('b', 'b-1'), ack('c', 'c-1'), ack('x', 'x-1', 'other-group')];

  it('names the instances of the group that acknowledged and are not members now, never itself', () => {
    expect(departedInstances(acks, { groupId: 'g', self: 'a', memberIds: ['a-1', 'c-1'] })).toEqual(['b']);
    expect(departedInstances(acks, { groupId: 'g', self: 'a', memberIds: [] })).toEqual(['b', 'c']);
  });

  it('takes a member whose id the broker derived from the static instance id for live (rejoined, not acknowledged yet)', () => {
    expect(departedInstances(acks, { groupId: 'g', self: 'a', memberIds: ['a-1', 'b-2f0c', 'c-1'] })).toEqual(
      [],
    );
  });

  it('ignores other groups, and an instance id that only starts like another', () => {
    const more = [...acks, ack('b2', 'b2-1')];
    expect(departedInstances(more, { groupId: 'g', self: 'a', memberIds: ['a-1', 'b-9', 'c-1'] })).toEqual([
      'b2',
    ]);
  });
});
