import { fenceTransactionalId, type EnricherAck, type Logger, type Admin, type Kafka } from '@cdc/core';

/**
 * Closes the transaction an instance that left the group for good may have left open.
 *
 * An instance killed mid-transaction leaves its transaction open. Its own restart fences it at
 * once (the committer initialises the same transactional id), but an instance that never comes
 * back (scaled down, host lost) is aborted by the broker only after its transaction timeout
 * (ENRICHER_TRANSACTION_TIMEOUT_MS) plus the broker's abort scan (up to 10 s more). Until then
 * every read-committed reader of the silver partitions that transaction wrote — the aggregator,
 * so the dashboard — is held at its first record, while the surviving instances go on committing
 * behind it. kafkajs has no API to abort another producer's transaction; initialising that
 * producer's transactional id does it (InitProducerId bumps its epoch and aborts its open
 * transaction, or completes one being committed).
 *
 * So after each group join the surviving instances look at who left: every instance of this group
 * that acknowledged on the control topic and is no longer a member has its transactional id
 * initialised once (again only after it came back and left again). Fencing an instance that is
 * in fact only restarting costs it one failed transaction: it replaces its producer and retries.
 */

/**
 * The instances of `groupId` (other than `self`) that acknowledged on the control topic and are
 * not members now. A member is recognised by the member id it acknowledged with, or by a member
 * id the broker derived from its static instance id (`<instance id>-<uuid>`), so an instance that
 * rejoined and has not acknowledged again yet is not taken for gone.
 */
export function departedInstances(
  acks: Iterable<EnricherAck>,
  o: { groupId: string; self: string; memberIds: readonly string[] },
): string[] {
  const out = new Set<string>();
  for (const ack of acks) {
    if (ack.group_id !== o.groupId || ack.instance_id === o.self) continue;
    const live = o.memberIds.some((m) => m === ack.member_id || m.startsWith(`${ack.instance_id}-`));
    if (!live) out.add(ack.instance_id);
  }
  return [...out].sort();
}

export interface PeerFencerOptions {
  kafka: Kafka;
  admin: Admin;
  groupId: string;
  instanceId: string;
  transactionalIdOf(instanceId: string): string;
  /** The enricher acknowledgements on the control topic now. */
  acks(): Iterable<EnricherAck>;
  transactionTimeoutMs: number;
  logger: Logger;
}

export interface PeerFencer {
  /** After this instance joined the group: fence the instances that left (in the background). */
  afterJoin(): void;
  /** Waits for a fencing in progress. */
  close(): Promise<void>;
}

export function createPeerFencer(o: PeerFencerOptions): PeerFencer {
  const log = o.logger.child({ component: 'peer-fencing', groupId: o.groupId });
  /** Departed instances fenced by this process (forgotten when one is seen as a member again). */
  const fenced = new Set<string>();
  let closed = false;
  let chain: Promise<void> = Promise.resolve();

  const fence = (instanceId: string): Promise<void> =>
    fenceTransactionalId(o.kafka, {
      transactionalId: o.transactionalIdOf(instanceId),
      transactionTimeoutMs: o.transactionTimeoutMs,
    });

  const run = async (): Promise<void> => {
    const { groups } = await o.admin.describeGroups([o.groupId]);
    const memberIds = (groups[0]?.members ?? []).map((m) => m.memberId);
    const departed = departedInstances(o.acks(), { groupId: o.groupId, self: o.instanceId, memberIds });
    for (const id of [...fenced]) if (!departed.includes(id)) fenced.delete(id);
    for (const id of departed) {
      if (closed) return;
      if (fenced.has(id)) continue;
      await fence(id);
      fenced.add(id);
      log.info(
        { instanceId: id, transactionalId: o.transactionalIdOf(id) },
        'fenced an instance that left the group (a transaction it left open is aborted)',
      );
    }
  };

  return {
    afterJoin() {
      chain = chain.then(run).catch((err: unknown) => {
        // The broker aborts such a transaction by itself after its timeout: nothing is lost.
        log.warn({ err }, 'could not fence the instances that left the group');
      });
    },
    async close() {
      closed = true;
      await chain;
    },
  };
}
