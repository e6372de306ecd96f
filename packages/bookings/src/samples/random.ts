import { xoroshiro128plus } from 'pure-rand';
import { CdcError } from '@cdc/core';

/**
 * A seeded random source (pure-rand's xoroshiro128+, mutated in place for speed). Same seed,
 * same sequence, on every machine: no Math.random anywhere in the generator.
 */
export interface Random {
  /** Uniform in [0, 1). */
  float(): number;
  /** Uniform whole number in [min, max] (both inclusive). */
  int(min: number, max: number): number;
  /** true with probability p. */
  chance(p: number): boolean;
  /** An index drawn from a cumulative distribution (see `cumulative`). */
  pick(cdf: Float64Array): number;
}

const TWO_POW_32 = 4294967296;

export function createRandom(seed: number): Random {
  const rng = xoroshiro128plus(seed | 0);
  // Warm up: xoroshiro's first outputs from small seeds are poorly mixed.
  for (let i = 0; i < 16; i++) rng.unsafeNext();
  const float = (): number => (rng.unsafeNext() >>> 0) / TWO_POW_32;
  return {
    float,
    int: (min, max) => min + Math.floor(float() * (max - min + 1)),
    chance: (p) => p > 0 && float() < p,
    pick: (cdf) => {
      const x = float() * cdf[cdf.length - 1]!;
      let lo = 0;
      let hi = cdf.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (cdf[mid]! > x) hi = mid;
        else lo = mid + 1;
      }
      return lo;
    },
  };
}

/** Running sums of non-negative weights, for `Random.pick`. At least one weight must be positive. */
export function cumulative(weights: readonly number[]): Float64Array {
  const cdf = new Float64Array(weights.length);
  let sum = 0;
  weights.forEach((w, i) => {
    if (!(w >= 0) || !Number.isFinite(w))
      throw new CdcError('INTERNAL', `sample weights: weight ${i} is ${w}; weights must be >= 0`);
    sum += w;
    cdf[i] = sum;
  });
  if (!(sum > 0)) throw new CdcError('INTERNAL', 'sample weights: at least one must be positive');
  return cdf;
}

/** Zipf-like weights 1/rank^s for ranks 1..n: a few items take most of the mass. */
export const zipfWeights = (n: number, s: number): number[] =>
  Array.from({ length: n }, (_, i) => 1 / Math.pow(i + 1, s));
