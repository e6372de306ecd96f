import type { BookingChange } from '@cdc/core';
import { createRandom } from '@cdc/bookings';
import { changeStream, type ChangeOptions } from './changes';

/**
 * What a consumer of a real change log must survive, added to a clean stream (`changeStream`):
 * exact re-deliveries of recent records (a duplicate, or a stale version when the booking has
 * changed since), records arriving after their successor (out of order), snapshot reads (`r`)
 * instead of creates, and bookings created again after their delete (same id, next version).
 * Seeded: same stream and options, same result.
 */
export interface DisorderOptions {
  seed: number;
  /** Share of records that re-deliver one of the last few thousand (default 0.1). */
  redeliveryRate?: number;
  /** Share of records held back behind the next one (default 0.02). */
  lateRate?: number;
  /** Share of creates delivered as snapshot reads, op `r` (default 0.05). */
  snapshotRate?: number;
  /** Share of deleted bookings created again up to 500 records later (default 0.2). */
  recreateRate?: number;
}

const RECENT = 2000;

export function withDisorder(next: () => BookingChange, options: DisorderOptions): () => BookingChange {
  const r = createRandom(options.seed);
  const redeliveryRate = options.redeliveryRate ?? 0.1;
  const lateRate = options.lateRate ?? 0.02;
  const snapshotRate = options.snapshotRate ?? 0.05;
  const recreateRate = options.recreateRate ?? 0.2;
  const recent: BookingChange[] = [];
  const recreates: { due: number; change: BookingChange }[] = [];
  let held: BookingChange | null = null;
  let n = 0;
  let recreated = 0;

  const fresh = (): BookingChange => {
    const due = recreates.findIndex((x) => x.due <= n);
    if (due >= 0) return recreates.splice(due, 1)[0]!.change;
    let c = next();
    if (c.op === 'c' && r.chance(snapshotRate)) c = { ...c, op: 'r' };
    if (c.op === 'd' && r.chance(recreateRate)) {
      const gone = c.before!;
      const at = c.ts_ms + 1;
      recreates.push({
        due: n + r.int(1, 500),
        change: {
          ...c,
          event_id: `${c.event_id}-recreated-${++recreated}`,
          op: 'c',
          before: null,
          // The delete was version + 1: the booking comes back at version + 2.
          after: { ...gone, status: 'BOOKED', version: gone.version + 2, created_at: at, updated_at: at },
          ts_ms: at,
        },
      });
    }
    return c;
  };

  return () => {
    n++;
    if (recent.length > 0 && r.chance(redeliveryRate)) return recent[r.int(0, recent.length - 1)]!;
    let c: BookingChange;
    if (held) {
      c = held;
      held = null;
    } else {
      c = fresh();
      if (r.chance(lateRate)) {
        held = c;
        c = fresh();
      }
    }
    recent.push(c);
    if (recent.length > 2 * RECENT) recent.splice(0, RECENT);
    return c;
  };
}

/** `count` records of a clean stream with disorder added (its seed: the stream's + 1). */
export function disorderedChanges(
  count: number,
  options: ChangeOptions,
  disorder: Omit<DisorderOptions, 'seed'> = {},
): BookingChange[] {
  const next = withDisorder(changeStream(options), { ...disorder, seed: options.seed + 1 });
  return Array.from({ length: count }, next);
}
