import type { RuleType, SubjectKind } from './schema';

/** A validated rule, as the engine uses it (times in ms). */
interface RuleBase {
  name: string;
  type: RuleType;
  severity: 'info' | 'warning' | 'critical';
  labels: Record<string, string>;
  /** The condition must hold this long before the alert fires. */
  forMs: number;
  /** The condition must stay clear this long before a firing alert resolves. */
  keepFiringForMs: number;
}

export interface BaselineSpec {
  /** trailing: an EWMA of the recent rate; time_of_day: the same hour on previous days once known. */
  kind: 'trailing' | 'time_of_day';
  halfLifeMs: number;
  /** History the baseline needs (after the window) before the rule judges a subject. */
  warmUpMs: number;
  timeZone: string;
}

/** A count per window of event time (cancellations or new bookings) against its own baseline. */
export interface RateRule extends RuleBase {
  type: 'cancellation_spike' | 'booking_surge' | 'booking_drop';
  metric: 'cancellations' | 'bookings';
  direction: 'up' | 'down';
  subjects: SubjectKind[];
  windowMs: number;
  /** up: count ≥ ratio × baseline fires; down: count ≤ baseline ÷ ratio fires. */
  ratio: number;
  /** And the count must be this many standard deviations (Poisson) away from the baseline. */
  zScore: number;
  /** Resolves once back within clearRatio of the baseline (the band in between holds the state). */
  clearRatio: number;
  /** up: the fewest events in the window that may fire. */
  minCount: number;
  /** down: the least baseline (events expected in the window) for the rule to judge at all. */
  minExpected: number;
  baseline: BaselineSpec;
}

export interface QualityRule extends RuleBase {
  type: 'data_quality_low';
  subjects: SubjectKind[];
  below: number;
  clearAbove: number;
  minBookings: number;
}

export interface DeadLettersRule extends RuleBase {
  type: 'dead_letters';
  windowMs: number;
  minCount: number;
}

export interface StaleRule extends RuleBase {
  type: 'pipeline_stale';
  maxLag: number;
  maxFreshnessMs: number;
  clearRatio: number;
}

export type Rule = RateRule | QualityRule | DeadLettersRule | StaleRule;

export const isRateRule = (r: Rule): r is RateRule =>
  r.type === 'cancellation_spike' || r.type === 'booking_surge' || r.type === 'booking_drop';

/** Rules over booking changes run on event time; dead letters and staleness on the wall clock. */
export const ruleClock = (r: Rule): 'EVENT' | 'WALL' =>
  r.type === 'dead_letters' || r.type === 'pipeline_stale' ? 'WALL' : 'EVENT';
