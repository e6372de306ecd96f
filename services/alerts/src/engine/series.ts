import { createOffsetLookup } from '@cdc/core';
import type { BaselineSpec } from '../rules/types';

/**
 * Counts of one metric (cancellations, new bookings) of one subject in buckets of event time,
 * and the subject's own baseline. Pure: time is passed in.
 *
 * - The window is the last `windowMs` of buckets, the current (partial) one included.
 * - A bucket that leaves the window is absorbed into the baseline, empty ones too (so a quiet
 *   period lowers it): an exponentially weighted moving average per bucket with the given half
 *   life, bias-corrected (like Adam's), so a young series is the plain mean of what it has seen.
 * - `time_of_day` also keeps one such average per hour of the day (in `timeZone`), with a half
 *   life of days; once an hour has been seen whole it is that hour's baseline.
 * - Until the baseline has absorbed `warmUpMs` of history it is unknown, and rules do not judge.
 */
export const BUCKET_MS = 10_000;
const HOUR_MS = 3_600_000;
/** How much of a long gap is replayed bucket by bucket; beyond it the series starts over. */
const MAX_GAP_BUCKETS = 7 * 24 * 360;

export interface SeriesState {
  /** Bucket number (floor(ts / BUCKET_MS)) of the newest bucket. */
  head: number;
  /** Bucket number of the first bucket counted: the ring's buckets before it are no history. */
  first: number;
  ring: number[];
  ewma: number;
  weight: number;
  absorbed: number;
  /** Per hour of day: average per bucket, its weight, buckets absorbed. */
  hours: { ewma: number; weight: number; absorbed: number }[] | null;
}

export interface Expectation {
  /** Events expected in the window. */
  expected: number;
  source: 'trailing' | 'time_of_day';
}

export class RateSeries {
  private readonly size: number;
  private readonly alpha: number;
  private readonly dayAlpha: number;
  private readonly offset: ((ms: number) => number) | null;
  private s: SeriesState;

  constructor(
    windowMs: number,
    private readonly spec: BaselineSpec,
    state?: SeriesState,
  ) {
    this.size = Math.max(1, Math.ceil(windowMs / BUCKET_MS));
    this.alpha = 1 - 2 ** (-BUCKET_MS / spec.halfLifeMs);
    // An hour slot absorbs HOUR_MS / BUCKET_MS buckets a day: its half life is a week of days.
    this.dayAlpha = 1 - 2 ** (-1 / ((HOUR_MS / BUCKET_MS) * 7));
    this.offset = spec.kind === 'time_of_day' ? createOffsetLookup(spec.timeZone) : null;
    this.s =
      state && state.ring.length === this.size
        ? state
        : {
            head: -1,
            first: -1,
            ring: new Array<number>(this.size).fill(0),
            ewma: 0,
            weight: 0,
            absorbed: 0,
            hours: this.offset ? hourSlots() : null,
          };
  }

  state(): SeriesState {
    return this.s;
  }

  /** Whether anything was ever counted. */
  get started(): boolean {
    return this.s.head >= 0;
  }

  /** Counts `n` events at event time `tsMs`; events older than the window are dropped (returns false). */
  add(tsMs: number, n: number): boolean {
    const b = Math.floor(tsMs / BUCKET_MS);
    if (this.s.head < 0) {
      this.s.head = b;
      this.s.first = b;
    }
    if (b > this.s.head) this.advanceTo(b);
    if (b <= this.s.head - this.size) return false;
    const i = mod(b, this.size);
    this.s.ring[i] = this.s.ring[i]! + n;
    return true;
  }

  /** Moves the window to end at `nowMs`, absorbing what leaves it into the baseline. */
  advance(nowMs: number): void {
    if (this.s.head < 0) return;
    const b = Math.floor(nowMs / BUCKET_MS);
    if (b > this.s.head) this.advanceTo(b);
  }

  /** Events in the window. */
  count(): number {
    let sum = 0;
    for (const n of this.s.ring) sum += n;
    return sum;
  }

  /** What the window is expected to hold, or null while the baseline warms up. */
  expectation(nowMs: number): Expectation | null {
    if (this.s.absorbed * BUCKET_MS < this.spec.warmUpMs || this.s.weight === 0) return null;
    if (this.offset && this.s.hours) {
      const slot = this.s.hours[hourOf(nowMs, this.offset)]!;
      if (slot.absorbed >= HOUR_MS / BUCKET_MS && slot.weight > 0) {
        return { expected: (slot.ewma / slot.weight) * this.size, source: 'time_of_day' };
      }
    }
    return { expected: (this.s.ewma / this.s.weight) * this.size, source: 'trailing' };
  }

  private advanceTo(b: number): void {
    const gap = b - this.s.head;
    if (gap > MAX_GAP_BUCKETS) {
      // Idle for over a week: what the baseline knew says nothing about now.
      this.s = {
        head: b,
        first: b,
        ring: new Array<number>(this.size).fill(0),
        ewma: 0,
        weight: 0,
        absorbed: 0,
        hours: this.offset ? hourSlots() : null,
      };
      return;
    }
    for (let next = this.s.head + 1; next <= b; next += 1) {
      const i = mod(next, this.size);
      // A bucket leaves the window; one from before the series began was never observed.
      if (next - this.size >= this.s.first) this.absorb(next - this.size, this.s.ring[i]!);
      this.s.ring[i] = 0;
    }
    this.s.head = b;
  }

  private absorb(bucket: number, n: number): void {
    this.s.ewma += this.alpha * (n - this.s.ewma);
    this.s.weight += this.alpha * (1 - this.s.weight);
    this.s.absorbed += 1;
    if (this.offset && this.s.hours) {
      const slot = this.s.hours[hourOf(bucket * BUCKET_MS, this.offset)]!;
      slot.ewma += this.dayAlpha * (n - slot.ewma);
      slot.weight += this.dayAlpha * (1 - slot.weight);
      slot.absorbed += 1;
    }
  }
}

const mod = (a: number, m: number): number => ((a % m) + m) % m;
const hourSlots = () => Array.from({ length: 24 }, () => ({ ewma: 0, weight: 0, absorbed: 0 }));
const hourOf = (ms: number, offset: (ms: number) => number): number =>
  Math.floor(mod(ms + offset(ms), 86_400_000) / HOUR_MS);
