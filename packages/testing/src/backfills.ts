import type { BookingChange, EnrichedBooking, EnrichedBookingChange } from '@cdc/core';
import { enrich } from './enriched';
import { seededRandom } from './seed';

/**
 * Silver as a pipeline with backfills writes it: the live enricher derives every bronze change
 * under the settings in force, and each backfill switches the settings (time zone, rules) to a
 * new epoch and re-derives a range of the bronze written before its switch, its records
 * interleaved with the live ones — so a re-derivation of a version arrives after its original,
 * and before, between or after the booking's later versions. On top: exact re-deliveries of
 * recent silver records (duplicates, or stale derivations once a newer one exists) and, when
 * asked, stragglers (records held back behind later ones, so that a re-derivation can arrive
 * before its original — not in a real pipeline, where a backfill only re-derives what the live
 * enricher had written, but the rule must not depend on it). Seeded: same input and options, same output.
 */
export interface Derivation {
  timeZone: string;
  /** '1' (the enricher's rules) or TEST_RULES (`withTestRules`). */
  rules: string;
}

export interface BackfillOptions {
  seed: number;
  /** The derivation of epoch 0 and of each backfill (epoch 1, 2, …), in order. */
  derivations: readonly Derivation[];
  /** Share of records that re-deliver an earlier silver record, mostly a recent one (default 0.05). */
  duplicateRate?: number;
  /**
   * Share of records held back behind up to 300 later ones; and, of the last 200 live records
   * before each backfill's switch, 25 times this share held back until that backfill has
   * re-derived them (default 0).
   */
  stragglerRate?: number;
  /**
   * Each backfill re-derives at least this share (0..1) of the bronze before its switch (default
   * 0: any range, down to a single record).
   */
  minRangeShare?: number;
}

export interface BackfilledSilver {
  records: EnrichedBookingChange[];
  /** Per record: true when a backfill wrote it (a re-derivation). */
  fromBackfill: boolean[];
  /** Per backfill (epoch 1, 2, …): the bronze range [from, to) it re-derived. */
  ranges: { epoch: number; from: number; to: number }[];
}

/**
 * A rules version of the tests only, to show that a backfill under new rules may change validity
 * and categories, not just the date fields: more than 6 tickets is invalid
 * (`ticket_count_above_6`); 2–3 tickets GROUP and 4 or more LARGE_GROUP; prices below 12.00
 * BUDGET, 12.00–18.00 STANDARD, above 18.00 PREMIUM. The tests' oracle knows these rules
 * independently (aggregator/test/support/reference.ts).
 */
export const TEST_RULES = 'test-2';

function imageUnderTestRules(b: EnrichedBooking | null): EnrichedBooking | null {
  if (b === null) return null;
  const n = b.ticket_count;
  const p = b.ticket_price;
  const tooMany = n > 6;
  return {
    ...b,
    booking_size_category: n <= 0 ? 'UNKNOWN' : n === 1 ? 'SINGLE' : n <= 3 ? 'GROUP' : 'LARGE_GROUP',
    price_category: p <= 0 ? 'UNKNOWN' : p < 1200 ? 'BUDGET' : p <= 1800 ? 'STANDARD' : 'PREMIUM',
    is_valid_booking: b.is_valid_booking && !tooMany,
    validation_errors: tooMany ? [...b.validation_errors, 'ticket_count_above_6'] : b.validation_errors,
  };
}

/** A silver record re-derived under TEST_RULES. */
export function withTestRules(c: EnrichedBookingChange): EnrichedBookingChange {
  return {
    ...c,
    rules_version: TEST_RULES,
    before: imageUnderTestRules(c.before),
    after: imageUnderTestRules(c.after),
  };
}

/** One bronze change derived under a derivation and epoch (as the enricher would write it). */
export function deriveUnder(change: BookingChange, d: Derivation, epoch: number): EnrichedBookingChange {
  const silver = enrich(change, { timeZone: d.timeZone, epoch });
  return d.rules === TEST_RULES ? withTestRules(silver) : silver;
}

export function silverWithBackfills(bronze: readonly BookingChange[], o: BackfillOptions): BackfilledSilver {
  const r = seededRandom(o.seed);
  const duplicateRate = o.duplicateRate ?? 0.05;
  const stragglerRate = o.stragglerRate ?? 0;
  const backfills = o.derivations.length - 1;
  // Backfill k switches at bronze position start[k] and re-derives [from, start[k]) until the next one.
  const starts = Array.from({ length: backfills }, (_, k) =>
    Math.floor(((k + 1) * bronze.length) / (backfills + 1)),
  );
  const latestFrom = (to: number): number => Math.floor((to - 1) * (1 - (o.minRangeShare ?? 0)));
  const ranges = starts.map((to, k) => ({
    epoch: k + 1,
    from: r.chance(0.4) ? 0 : r.int(0, latestFrom(to)),
    to,
  }));

  const records: EnrichedBookingChange[] = [];
  const fromBackfill: boolean[] = [];
  const held: { due: number; record: EnrichedBookingChange; backfill: boolean }[] = [];
  const emit = (record: EnrichedBookingChange, backfill: boolean): void => {
    if (stragglerRate > 0 && r.chance(stragglerRate)) {
      held.push({ due: records.length + r.int(1, 300), record, backfill });
      return;
    }
    records.push(record);
    fromBackfill.push(backfill);
    for (let i = held.length - 1; i >= 0; i--) {
      const h = held[i]!;
      if (h.due > records.length) continue;
      held.splice(i, 1);
      records.push(h.record);
      fromBackfill.push(h.backfill);
    }
    if (records.length > 1 && r.chance(duplicateRate)) {
      // Mostly a recent record; sometimes one from long ago (a stale derivation once re-derived).
      const at = r.int(r.chance(0.3) ? 0 : Math.max(0, records.length - 2000), records.length - 1);
      records.push(records[at]!);
      fromBackfill.push(fromBackfill[at]!);
    }
  };

  let epoch = 0;
  let cursor = -1; // the running backfill's next bronze position, -1 when none runs
  let end = 0;
  // Live records held back until the next backfill has re-derived them.
  let late: EnrichedBookingChange[] = [];
  let lateFor = 0; // the backfill (epoch) they wait for
  const rederive = (n: number): void => {
    for (; n > 0 && cursor >= 0 && cursor < end; n--) {
      emit(deriveUnder(bronze[cursor++]!, o.derivations[epoch]!, epoch), true);
    }
    if (cursor >= end && epoch === lateFor && late.length > 0) {
      for (const record of late) emit(record, false);
      late = [];
    }
  };
  for (let i = 0; i < bronze.length; i++) {
    if (epoch < backfills && i === starts[epoch]) {
      // A backfill still running when the next one starts is finished first (one at a time).
      rederive(Infinity);
      epoch += 1;
      cursor = ranges[epoch - 1]!.from;
      end = ranges[epoch - 1]!.to;
    }
    // The backfill's records interleave with the live ones (faster than live: up to 4 per live one).
    rederive(r.int(0, 4));
    const record = deriveUnder(bronze[i]!, o.derivations[epoch]!, epoch);
    const nextStart = epoch < backfills ? starts[epoch]! : Infinity;
    if (i >= nextStart - 200 && r.chance(25 * stragglerRate)) {
      late.push(record);
      lateFor = epoch + 1;
    } else emit(record, false);
  }
  rederive(Infinity);
  for (const record of late) emit(record, false);
  for (const h of held) {
    records.push(h.record);
    fromBackfill.push(h.backfill);
  }
  return { records, fromBackfill, ranges };
}
