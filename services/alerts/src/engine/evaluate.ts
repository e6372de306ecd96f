import { formatDuration } from '../duration';
import type { DeadLettersRule, QualityRule, RateRule, StaleRule } from '../rules/types';
import type { Expectation } from './series';

/**
 * What each kind of rule says about one subject now. Pure. A verdict is
 * - `breach`: the firing condition holds;
 * - `clear`: the value is back past the clearing threshold (looser than the firing one);
 * - `hold`: in between (hysteresis: a firing alert keeps firing, a quiet one stays quiet);
 * - `unknown`: not enough data to judge (the baseline warms up): nothing changes.
 */
export type VerdictState = 'breach' | 'hold' | 'clear' | 'unknown';

export interface Verdict {
  state: VerdictState;
  value: number | null;
  /** The firing threshold (when breaching or holding) or the clearing one (when clear). */
  threshold: number | null;
  baseline: number | null;
  summary: string;
}

const unknown = (summary: string): Verdict => ({
  state: 'unknown',
  value: null,
  threshold: null,
  baseline: null,
  summary,
});
const round = (x: number, digits = 1): number => Number(x.toFixed(digits));
const what = (r: RateRule): string => (r.metric === 'cancellations' ? 'cancellations' : 'new bookings');

/** Standard deviations of `count` from `expected` for a Poisson count. */
export const zScore = (count: number, expected: number): number =>
  (count - expected) / Math.sqrt(Math.max(expected, 1));

export function evaluateRate(r: RateRule, subject: string, count: number, e: Expectation | null): Verdict {
  if (e === null) return unknown(`${subject}: the baseline is warming up`);
  const expected = e.expected;
  const z = zScore(count, expected);
  const window = formatDuration(r.windowMs);
  const base = `${subject}: ${count} ${what(r)} in ${window}, baseline ${round(expected)} (${e.source.replace('_', ' ')})`;
  if (r.direction === 'up') {
    const fireAt = Math.max(
      r.minCount,
      r.ratio * expected,
      expected + r.zScore * Math.sqrt(Math.max(expected, 1)),
    );
    if (count >= r.minCount && count >= r.ratio * expected && z >= r.zScore) {
      return {
        state: 'breach',
        value: count,
        threshold: round(fireAt),
        baseline: round(expected, 2),
        summary: `${base}: ${round(count / Math.max(expected, 1e-9), 1)}× the baseline`,
      };
    }
    const clearBelow = Math.max(r.clearRatio * expected, r.minCount / 2);
    if (count < clearBelow) {
      return {
        state: 'clear',
        value: count,
        threshold: round(clearBelow),
        baseline: round(expected, 2),
        summary: `${base}: back to normal`,
      };
    }
    return {
      state: 'hold',
      value: count,
      threshold: round(fireAt),
      baseline: round(expected, 2),
      summary: base,
    };
  }
  if (expected < r.minExpected) {
    return {
      state: 'clear',
      value: count,
      threshold: null,
      baseline: round(expected, 2),
      summary: `${base}: too few expected to judge`,
    };
  }
  const fireAt = Math.min(expected / r.ratio, expected - r.zScore * Math.sqrt(expected));
  if (count <= expected / r.ratio && z <= -r.zScore) {
    return {
      state: 'breach',
      value: count,
      threshold: round(fireAt),
      baseline: round(expected, 2),
      summary: `${base}: ${round((count / expected) * 100, 0)}% of the baseline`,
    };
  }
  const clearAbove = expected / r.clearRatio;
  if (count > clearAbove) {
    return {
      state: 'clear',
      value: count,
      threshold: round(clearAbove),
      baseline: round(expected, 2),
      summary: `${base}: back to normal`,
    };
  }
  return {
    state: 'hold',
    value: count,
    threshold: round(fireAt),
    baseline: round(expected, 2),
    summary: base,
  };
}

export interface QualityFacts {
  valid: number;
  total: number;
}

export function evaluateQuality(r: QualityRule, subject: string, q: QualityFacts | undefined): Verdict {
  if (!q || q.total < r.minBookings) {
    // Too few bookings for a score to mean much: treated as fine.
    return {
      state: 'clear',
      value: null,
      threshold: null,
      baseline: null,
      summary: `${subject}: too few bookings to judge`,
    };
  }
  const score = Math.round((q.valid / q.total) * 10_000) / 100;
  const base = `${subject}: data quality ${score}% (${q.total - q.valid} of ${q.total} current bookings invalid)`;
  if (score < r.below)
    return {
      state: 'breach',
      value: score,
      threshold: r.below,
      baseline: null,
      summary: `${base}, below ${r.below}%`,
    };
  if (score >= r.clearAbove)
    return { state: 'clear', value: score, threshold: r.clearAbove, baseline: null, summary: base };
  return { state: 'hold', value: score, threshold: r.below, baseline: null, summary: base };
}

export function evaluateDeadLetters(r: DeadLettersRule, count: number | null): Verdict {
  if (count === null) return unknown('dead letters: not read yet');
  const window = formatDuration(r.windowMs);
  const summary = `${count} dead letter${count === 1 ? '' : 's'} in the last ${window}`;
  if (count >= r.minCount)
    return { state: 'breach', value: count, threshold: r.minCount, baseline: null, summary };
  return { state: 'clear', value: count, threshold: r.minCount, baseline: null, summary };
}

export interface StaleFacts {
  /** Records waiting for the enricher and the aggregator together; null when unknown. */
  lag: number | null;
  /** How far gold's newest event time is behind now while records wait (0 when none wait). */
  freshnessMs: number | null;
}

export function evaluateStale(r: StaleRule, f: StaleFacts | null): Verdict {
  if (f === null || (f.lag === null && f.freshnessMs === null)) return unknown('pipeline: lag not known yet');
  const lag = f.lag ?? 0;
  const fresh = f.freshnessMs ?? 0;
  const summary = `pipeline: ${lag} records waiting, gold ${formatDuration(fresh)} behind`;
  if (lag > r.maxLag || fresh > r.maxFreshnessMs) {
    const value = lag > r.maxLag ? lag : fresh;
    return {
      state: 'breach',
      value,
      threshold: lag > r.maxLag ? r.maxLag : r.maxFreshnessMs,
      baseline: null,
      summary,
    };
  }
  if (lag <= r.maxLag * r.clearRatio && fresh <= r.maxFreshnessMs * r.clearRatio) {
    return { state: 'clear', value: lag, threshold: r.maxLag * r.clearRatio, baseline: null, summary };
  }
  return { state: 'hold', value: lag, threshold: r.maxLag, baseline: null, summary };
}
