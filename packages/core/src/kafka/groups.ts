import { AssignerProtocol } from 'kafkajs';

/** The partitions per topic a group member was assigned, from its `describeGroups` entry's bytes. */
export function memberAssignment(bytes: Buffer): Record<string, number[]> {
  return AssignerProtocol.MemberAssignment.decode(bytes)?.assignment ?? {};
}
