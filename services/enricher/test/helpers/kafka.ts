import { waitFor, type EnrichedBookingChange } from '@cdc/core';
import { endOffsets, startCdc, type CdcProcess, type TestContext } from '@cdc/testing';

// The enricher's tests' own helpers; reading topics back (readToEnd, decodeSilver) is in @cdc/testing.

/** Waits until the group has committed the end of every partition of `topic` (all input processed). */
export async function waitForGroupCaughtUp(
  ctx: TestContext,
  groupId: string,
  topic: string,
  timeoutMs: number,
): Promise<void> {
  const ends = await endOffsets(ctx, topic);
  await waitFor(
    async () => {
      const [t] = await ctx.admin.fetchOffsets({ groupId, topics: [topic] });
      const committed = new Map(t!.partitions.map((p) => [p.partition, Number(p.offset)]));
      return [...ends].every(([p, end]) => end === 0 || (committed.get(p) ?? -1) >= end);
    },
    { timeoutMs, intervalMs: 250, what: `group ${groupId} to commit the end of ${topic}` },
  );
}

/** Sum of the group's committed offsets on a topic (progress indicator). */
export async function committedSum(ctx: TestContext, groupId: string, topic: string): Promise<number> {
  const [t] = await ctx.admin.fetchOffsets({ groupId, topics: [topic] });
  return (t?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
}

/** The contract's version of a change: after.version, or before.version + 1 for a delete. */
export const changeVersion = (c: {
  before: { version: number } | null;
  after: { version: number } | null;
}): number => (c.after ? c.after.version : c.before!.version + 1);

/** Bookings whose changes are not in version order in `records` (log order): each booking's order must hold. */
export function outOfOrderBookings(records: EnrichedBookingChange[]): string[] {
  const last = new Map<string, number>();
  const bad = new Set<string>();
  for (const r of records) {
    const key = (r.after ?? r.before)!.booking_id;
    const version = changeVersion(r);
    const prev = last.get(key);
    if (prev !== undefined && version <= prev) bad.add(key);
    last.set(key, version);
  }
  return [...bad];
}

/** `node bin/cdc.js enrich` on the context's topics (from the built dist, as `cdc start` runs it). */
export function spawnEnricher(ctx: TestContext, env: Record<string, string>): CdcProcess {
  return ctx.track(
    startCdc(['enrich'], {
      connection: ctx.connection,
      env: { ENRICHER_OPS_PORT: '0', ...env },
      keepChars: 20_000,
    }),
  );
}
