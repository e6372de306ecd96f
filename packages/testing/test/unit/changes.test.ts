import type { BookingChange } from '@cdc/core';
import { bookingChanges, bookingIdOf, CHURN_MIX, disorderedChanges, enrich, testSeed } from '../../src';

const SEED = testSeed('testing change streams');
const versionOf = (c: BookingChange): number => (c.after ? c.after.version : c.before!.version + 1);

describe('the test change streams', () => {
  it('are the same for the same seed and options, and differ for another seed', () => {
    const options = { liveBookings: 200, mix: CHURN_MIX };
    expect(bookingChanges(2000, { seed: SEED, ...options })).toEqual(
      bookingChanges(2000, { seed: SEED, ...options }),
    );
    expect(bookingChanges(2000, { seed: SEED + 1, ...options })).not.toEqual(
      bookingChanges(2000, { seed: SEED, ...options }),
    );
    expect(disorderedChanges(2000, { seed: SEED })).toEqual(disorderedChanges(2000, { seed: SEED }));
  });

  it('clean: every booking +1 version per change, event ids as asked, time moving forward', () => {
    const changes = bookingChanges(5000, { seed: SEED, idPrefix: 'x', mix: CHURN_MIX, stepMs: 7 });
    const last = new Map<string, number>();
    for (const c of changes) {
      const id = bookingIdOf(c);
      expect(versionOf(c)).toBe((last.get(id) ?? 0) + 1);
      last.set(id, versionOf(c));
    }
    expect(changes[0]!.event_id).toBe('x-1');
    expect(new Set(changes.map((c) => c.event_id)).size).toBe(changes.length);
    expect(changes[1]!.ts_ms - changes[0]!.ts_ms).toBe(7);
  });

  it('disordered: duplicates, stale and late records, snapshot reads and re-creates after a delete', () => {
    const changes = disorderedChanges(20_000, { seed: SEED, liveBookings: 500, mix: CHURN_MIX });
    const seen = new Set<string>();
    const newest = new Map<string, number>();
    const deletes = new Set<string>();
    const creates: { id: string; v: number }[] = [];
    let duplicates = 0;
    let stale = 0;
    for (const c of changes) {
      const id = bookingIdOf(c);
      const v = versionOf(c);
      // A re-delivery: of the booking's newest change (a duplicate), or of an older one (stale).
      if (seen.has(c.event_id)) {
        if (v < newest.get(id)!) stale++;
        else duplicates++;
      } else if (c.op === 'd') deletes.add(`${id}@${v}`);
      else if (c.op === 'c' && v > 1) creates.push({ id, v });
      seen.add(c.event_id);
      newest.set(id, Math.max(v, newest.get(id) ?? 0));
    }
    expect(duplicates).toBeGreaterThan(300);
    expect(stale).toBeGreaterThan(500);
    // A re-create follows its booking's delete in version. Checked over the whole stream: a late
    // record may bring the delete after the re-create, or the first create after the delete.
    for (const { id, v } of creates) expect(deletes.has(`${id}@${v - 1}`)).toBe(true);
    const recreates = creates.length;
    expect(recreates).toBeGreaterThan(200);
    expect(changes.filter((c) => c.op === 'r').length).toBeGreaterThan(100);
  });

  it('enrich: the enricher rules, enriched_at the change time unless given', () => {
    const [c] = bookingChanges(1, { seed: SEED, dirtyRatio: 0 });
    const e = enrich(c!);
    expect(e.enriched_at).toBe(c!.ts_ms);
    expect(e.after).toMatchObject({ booking_id: c!.after!.booking_id, is_valid_booking: true });
    expect(enrich(c!, { enrichedAtMs: 0 }).enriched_at).toBe(0);
  });
});
