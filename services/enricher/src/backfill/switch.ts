import { CdcError, sleep, type ControlClient, type EnricherAck, type Admin } from '@cdc/core';

/**
 * The backfill's wait for the live enrichers to switch. The backfill re-derives bronze up to end
 * offsets E; a record the live path derives with the old epoch must lie below E, or it would keep
 * the old derivation. So, after recording the new settings and before capturing E, the backfill
 * waits until every current member of every live enricher group has acknowledged the new epoch
 * (each instance writes `enricher/<group>/<instance>` with its member id once no unit of an older
 * epoch is in flight; see settings-sync.ts). A member that joins later reads the control topic to
 * its end before its first batch, so it derives with the new epoch from the start. An empty group
 * needs no acknowledgement.
 */
export interface LiveMember {
  groupId: string;
  memberId: string;
  clientId: string;
  clientHost: string;
}

/** The members that have not acknowledged `epoch` (or a newer one) under their current member id. */
export function unacknowledged(
  members: LiveMember[],
  acks: Iterable<EnricherAck>,
  epoch: number,
): LiveMember[] {
  const acked = new Set<string>();
  for (const a of acks) if (a.epoch >= epoch) acked.add(`${a.group_id}\u0000${a.member_id}`);
  return members.filter((m) => !acked.has(`${m.groupId}\u0000${m.memberId}`));
}

/** The current members of the groups (none for an empty or dead group). */
export async function liveMembers(admin: Admin, groups: string[]): Promise<LiveMember[]> {
  if (groups.length === 0) return [];
  const { groups: described } = await admin.describeGroups(groups);
  return described.flatMap((g) =>
    g.state === 'Empty' || g.state === 'Dead'
      ? []
      : g.members.map((m) => ({
          groupId: g.groupId,
          memberId: m.memberId,
          clientId: m.clientId,
          clientHost: m.clientHost,
        })),
  );
}

export const describeMember = (m: LiveMember): string =>
  `${m.groupId} member ${m.memberId} (client ${m.clientId}, ${m.clientHost})`;

export async function waitForSwitch(o: {
  admin: Admin;
  control: ControlClient;
  groups: () => string[];
  epoch: number;
  timeoutMs: number;
  onWaiting?: (pending: LiveMember[]) => void;
  signal?: AbortSignal;
}): Promise<void> {
  const deadline = Date.now() + o.timeoutMs;
  for (;;) {
    const state = await o.control.read();
    const pending = unacknowledged(await liveMembers(o.admin, o.groups()), state.enrichers.values(), o.epoch);
    if (pending.length === 0) return;
    if (Date.now() > deadline) {
      throw new CdcError(
        'TIMED_OUT',
        `backfill: ${pending.length} live enricher member(s) did not acknowledge epoch ${o.epoch} within ${Math.round(o.timeoutMs / 1000)} s: ` +
          `${pending.map(describeMember).join('; ')}. The new settings are recorded; an enricher from before derivation ` +
          'epochs never acknowledges (upgrade or stop it). Run the same command again to keep waiting and go on.',
        { retriable: true },
      );
    }
    if (o.signal?.aborted) throw o.signal.reason as Error;
    o.onWaiting?.(pending);
    await sleep(250);
  }
}
