import { FetchBatches, type EnrichedBookingChange } from '@cdc/core';
import {
  CHURN_MIX,
  TEST_RULES,
  disorderedChanges,
  seededRandom,
  silverWithBackfills,
  testSeed,
} from '@cdc/testing';
import { AggregatorStore, type BatchResult } from '../../src';
import { ReferenceModel, bookingDifferences, counterDifferences, kpiDifferences } from '../support/reference';

/**
 * Fetch groups (core's kafka/fetch-batches.ts, over the aggregator's batches): the partitions'
 * batches of one fetch commit in one SQLite transaction once the fetch's last batch is in, never
 * earlier; kafkajs offsets are resolved only after that commit; a failed or abandoned group keeps
 * nothing. A stream spread over partitions by booking (as silver is keyed) and applied in random
 * fetch groups ends exactly where an independent reference model applying it in order does.
 */
const SEED = testSeed('aggregator fetch groups');
const TOPIC = 'silver';
const PARTITIONS = 3;

function silver(seed: number, bronze = 12_000): EnrichedBookingChange[] {
  const changes = disorderedChanges(
    bronze,
    { seed, liveBookings: 1500, movies: 40, mix: CHURN_MIX, dirtyRatio: 0.08 },
    { redeliveryRate: 0.15 },
  );
  return silverWithBackfills(changes, {
    seed: seed + 2,
    derivations: [
      { timeZone: 'UTC', rules: '1' },
      { timeZone: 'Asia/Kolkata', rules: TEST_RULES },
      { timeZone: 'UTC', rules: TEST_RULES },
    ],
    duplicateRate: 0.05,
  }).records;
}

/** Silver's partitions: each booking's changes in one partition, in their order. */
function partitioned(changes: EnrichedBookingChange[]): EnrichedBookingChange[][] {
  const parts: EnrichedBookingChange[][] = Array.from({ length: PARTITIONS }, () => []);
  for (const c of changes) {
    const id = (c.after ?? c.before)?.booking_id ?? '';
    let h = 0;
    for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) | 0;
    parts[Math.abs(h) % PARTITIONS]!.push(c);
  }
  return parts;
}

function grouper(store: AggregatorStore) {
  const committed: { result: BatchResult; highWatermarks: Map<number, number> }[] = [];
  const batches = new FetchBatches<EnrichedBookingChange | null, BatchResult>({
    open: () => store.openBatch(TOPIC),
    onCommitted: (result, highWatermarks) =>
      committed.push({ result, highWatermarks: new Map(highWatermarks) }),
  });
  return { batches, committed };
}

/** Hands one partition's records to the group as eachBatch does; returns its resolve flag. */
function handOver(
  batches: FetchBatches<EnrichedBookingChange | null, BatchResult>,
  partition: number,
  from: number,
  changes: (EnrichedBookingChange | null)[],
  highWatermark = from + changes.length,
): { resolved: boolean; result: BatchResult | undefined } {
  const open = batches.begin(partition);
  changes.forEach((c, i) => open.add(partition, from + i, c));
  const state = { resolved: false, result: undefined as BatchResult | undefined };
  state.result = batches.end(open, partition, from + changes.length, highWatermark, () => {
    state.resolved = true;
  });
  return state;
}

const historyRows = (store: AggregatorStore): number =>
  store.db.prepare('SELECT COUNT(*) FROM batch_history').pluck().get() as number;

test("a fetch's batches commit together, once its last batch is in, and only then resolve", () => {
  const store = AggregatorStore.open(':memory:');
  const parts = partitioned(silver(SEED, 3000));
  const { batches, committed } = grouper(store);
  batches.fetched(3);
  const a = handOver(batches, 0, 0, parts[0]!.slice(0, 100), 500);
  const b = handOver(batches, 1, 0, parts[1]!.slice(0, 80));
  expect([a.resolved, b.resolved, a.result, b.result]).toEqual([false, false, undefined, undefined]);
  expect(store.storedOffsets(TOPIC).size).toBe(0);
  expect(historyRows(store)).toBe(0);
  const c = handOver(batches, 2, 0, parts[2]!.slice(0, 90));
  expect([a.resolved, b.resolved, c.resolved]).toEqual([true, true, true]);
  expect(committed).toHaveLength(1);
  expect(c.result?.partitions).toEqual([
    { partition: 0, nextOffset: 100 },
    { partition: 1, nextOffset: 80 },
    { partition: 2, nextOffset: 90 },
  ]);
  expect(committed[0]!.highWatermarks.get(0)).toBe(500);
  expect(c.result?.changes).toBe(270);
  expect([...store.storedOffsets(TOPIC)]).toEqual([
    [0, 100],
    [1, 80],
    [2, 90],
  ]);
  expect(historyRows(store)).toBe(1);
  expect(kpiDifferences(store.db, new ReferenceModel())).toEqual([]);
  store.close();
});

test('at a trickle a fetch of one batch commits at once; an unannounced batch too', () => {
  const store = AggregatorStore.open(':memory:');
  const parts = partitioned(silver(SEED + 1, 2000));
  const { batches, committed } = grouper(store);
  batches.fetched(1);
  expect(handOver(batches, 1, 0, parts[1]!.slice(0, 3)).resolved).toBe(true);
  // No FETCH seen (nothing announced): nothing is waited for either.
  expect(handOver(batches, 2, 0, parts[2]!.slice(0, 2)).resolved).toBe(true);
  expect(committed).toHaveLength(2);
  store.close();
});

test('a partition met again before the group is committed commits the group first', () => {
  const store = AggregatorStore.open(':memory:');
  const parts = partitioned(silver(SEED + 2, 2000));
  const { batches, committed } = grouper(store);
  batches.fetched(2);
  batches.fetched(2); // two fetches overlapping
  const first = handOver(batches, 0, 0, parts[0]!.slice(0, 10));
  expect(first.resolved).toBe(false);
  const again = handOver(batches, 0, 10, parts[0]!.slice(10, 20));
  expect(first.resolved).toBe(true);
  expect(again.resolved).toBe(false);
  expect(committed).toHaveLength(1);
  expect(batches.commit()?.partitions).toEqual([{ partition: 0, nextOffset: 20 }]);
  expect(again.resolved).toBe(true);
  store.close();
});

test('a new fetch commits what is still grouped and counts afresh', () => {
  const store = AggregatorStore.open(':memory:');
  const parts = partitioned(silver(SEED + 5, 2000));
  const { batches, committed } = grouper(store);
  batches.fetched(3); // one of them never comes (given up, or filtered by kafkajs)
  const a = handOver(batches, 0, 0, parts[0]!.slice(0, 10));
  const b = handOver(batches, 1, 0, parts[1]!.slice(0, 10));
  expect([a.resolved, b.resolved]).toEqual([false, false]);
  expect(batches.fetchStarting()?.partitions).toHaveLength(2);
  expect([a.resolved, b.resolved]).toEqual([true, true]);
  batches.fetched(1);
  expect(handOver(batches, 2, 0, parts[2]!.slice(0, 10)).resolved).toBe(true); // not waiting for the lost one
  expect(batches.fetchStarting()).toBeUndefined();
  expect(committed).toHaveLength(2);
  store.close();
});

test('a failed commit keeps nothing, resolves nothing and drops the cached states', () => {
  const store = AggregatorStore.open(':memory:');
  const parts = partitioned(silver(SEED + 3, 4000));
  const { batches, committed } = grouper(store);
  batches.fetched(2);
  handOver(batches, 0, 0, parts[0]!.slice(0, 200));
  const before = store.db.prepare('SELECT * FROM movie_kpis').all();
  const open = batches.begin(1);
  parts[1]!.slice(0, 200).forEach((c, i) => open.add(1, i, c));
  // Another writer moved partition 1's offset meanwhile: the transaction must fail.
  store.writer.advanceOffset(TOPIC, 1, 7);
  let resolved = false;
  expect(() => batches.end(open, 1, 200, 200, () => (resolved = true))).toThrow(/moved from 0 to 7/);
  expect(resolved).toBe(false);
  expect(committed).toHaveLength(0);
  expect(store.db.prepare('SELECT * FROM movie_kpis').all()).toEqual(before);
  expect(store.storedOffsets(TOPIC).get(0)).toBeUndefined();
  // Read again from the stored offsets: exact (the states the failed group touched were dropped).
  batches.fetched(2);
  handOver(batches, 0, 0, parts[0]!.slice(0, 200));
  handOver(batches, 1, 0, parts[1]!.slice(0, 200));
  expect(committed).toHaveLength(1);
  expect(kpiDifferences(store.db, new ReferenceModel())).toEqual([]);
  store.close();
});

test('a batch skipped (stale generation) abandons the group; a reset forgets the announced count', () => {
  const store = AggregatorStore.open(':memory:');
  const parts = partitioned(silver(SEED + 4, 2000));
  const { batches, committed } = grouper(store);
  batches.fetched(3);
  const a = handOver(batches, 0, 0, parts[0]!.slice(0, 50));
  batches.skipped();
  expect(batches.commit()).toBeUndefined();
  expect(a.resolved).toBe(false);
  batches.reset();
  expect(handOver(batches, 0, 0, parts[0]!.slice(0, 50)).resolved).toBe(true); // nothing announced
  expect(committed).toHaveLength(1);
  expect(kpiDifferences(store.db, new ReferenceModel())).toEqual([]);
  store.close();
});

test.each([SEED + 10, SEED + 11])(
  'a partitioned stream in random fetch groups ends where the reference model does (seed %i)',
  (seed) => {
    const changes = silver(seed);
    const model = new ReferenceModel();
    for (const c of changes) model.apply(c);
    const parts = partitioned(changes);
    const store = AggregatorStore.open(':memory:', { bookingCacheSize: 500 });
    const { batches, committed } = grouper(store);
    const random = seededRandom(seed + 5);
    const next = parts.map(() => 0);
    let fetches = 0;
    while (next.some((n, p) => n < parts[p]!.length)) {
      // A fetch: a random run of each partition (some empty: they never reach eachBatch).
      const runs = parts.map((records, p) => {
        if (random.chance(0.3)) return [];
        return records.slice(next[p], next[p]! + 1 + random.int(0, random.chance(0.1) ? 1500 : 150));
      });
      const taken = runs.map((r, p) => [p, r] as const).filter(([, r]) => r.length > 0);
      batches.fetched(taken.length);
      for (const [p, run] of taken) {
        // Now and then a re-delivery from below the stored offset: ignored by the batch.
        const back = random.chance(0.05) ? Math.min(next[p]!, random.int(1, 30)) : 0;
        const from = next[p]! - back;
        handOver(batches, p, from, parts[p]!.slice(from, next[p]! + run.length));
        next[p] = next[p]! + run.length;
      }
      fetches += 1;
    }
    expect(committed.length).toBeLessThanOrEqual(fetches);
    expect([...store.storedOffsets(TOPIC)].sort()).toEqual(parts.map((r, p) => [p, r.length]));
    expect(kpiDifferences(store.db, model)).toEqual([]);
    expect(counterDifferences(store.db, model)).toEqual([]);
    expect(bookingDifferences(store.db, model)).toEqual([]);
    store.close();
  },
);
