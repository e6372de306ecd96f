import { ConfigError } from '@cdc/core';
import { createRandom, type Random } from '@cdc/bookings';

/**
 * Seeds of random tests. Every test that uses randomness takes its seed from `testSeed`, which
 * prints it: a failure can be replayed exactly with `TEST_SEED=<seed> npx jest <file>`.
 */
const MAX_SEED = 2 ** 31 - 1;

/**
 * TEST_SEED when set (to replay a failure), else a fresh random seed; printed once on stderr with
 * `label` (the test's name) and the command that replays it. Derive further seeds from it
 * (`seed + 1`, …) rather than asking for several.
 */
export function testSeed(label: string): number {
  const fixed = process.env.TEST_SEED;
  let seed: number;
  if (fixed !== undefined && fixed !== '') {
    seed = Number(fixed);
    if (!Number.isInteger(seed) || seed < 0 || seed > MAX_SEED)
      throw new ConfigError(`TEST_SEED must be a whole number from 0 to ${MAX_SEED}, got '${fixed}'`);
  } else {
    // The only unseeded randomness in the tests: the choice of the seed itself.
    seed = 1 + Math.floor(Math.random() * (MAX_SEED - 1));
  }
  process.stderr.write(`[test seed] ${label}: ${seed} (replay: TEST_SEED=${seed})\n`);
  return seed;
}

/** The product's seeded random source (the producer's), with what tests also need. */
export interface SeededRandom extends Random {
  /** `n` random bytes. */
  bytes(n: number): Buffer;
  /** One element of a non-empty list. */
  oneOf<T>(items: readonly T[]): T;
}

export function seededRandom(seed: number): SeededRandom {
  const r = createRandom(seed);
  return {
    ...r,
    bytes: (n) => {
      const out = Buffer.alloc(n);
      for (let i = 0; i < n; i++) out[i] = r.int(0, 255);
      return out;
    },
    oneOf: (items) => {
      if (items.length === 0) throw new RangeError('oneOf needs at least one item');
      return items[r.int(0, items.length - 1)]!;
    },
  };
}
