import { NO_MOVIE_KEY, type MovieKpis } from '@cdc/core';
import { isRateRule, ruleClock, type RateRule, type Rule } from '../rules/types';
import {
  evaluateDeadLetters,
  evaluateQuality,
  evaluateRate,
  evaluateStale,
  type QualityFacts,
  type StaleFacts,
  type Verdict,
} from './evaluate';
import { step, type AlertState, type Transition } from './lifecycle';
import { RateSeries, type SeriesState } from './series';

/**
 * The alert engine: what the service has learned from its inputs, and the rules applied to it.
 * Pure: inputs and the wall clock are passed in; its whole state is a plain object (`state()`),
 * saved by the service and given back after a restart.
 *
 * Inputs:
 * - gold snapshots: each movie's event counters only grow, so the difference between two
 *   snapshots of a movie is what happened in between (new bookings, status changes: mostly
 *   cancellations), counted at the newer snapshot's `last_event_ts_ms`. A snapshot whose
 *   `snapshot_version` is not newer than the last one seen is a re-delivery and counts nothing;
 *   the first snapshot of a movie only sets where its counters start. Also the quality facts.
 * - the dead-letter topic's end offsets (their sum only grows), sampled on the wall clock;
 * - the pipeline's consumer lag and freshness, sampled on the wall clock.
 *
 * Event time: the newest event time seen (a watermark), moving on with the wall clock while no
 * newer event arrives, so windows slide and alerts resolve when traffic stops; never backwards.
 * A producer running in accelerated event time (`cdc produce --time-scale`) drives it faster.
 */
export const PIPELINE = 'pipeline';

export interface MovieCounters {
  version: number;
  newBookings: number;
  statusChanges: number;
  valid: number;
  total: number;
}

export interface EngineState {
  watermark: number | null;
  wallAtWatermark: number | null;
  eventNow: number | null;
  movies: Record<string, MovieCounters>;
  series: Record<string, SeriesState>;
  deadLetters: { total: number | null; recent: [number, number][] };
  alerts: AlertState[];
}

export const emptyEngineState = (): EngineState => ({
  watermark: null,
  wallAtWatermark: null,
  eventNow: null,
  movies: {},
  series: {},
  deadLetters: { total: null, recent: [] },
  alerts: [],
});

const seriesKey = (rule: string, subject: string): string => `${rule}|${subject}`;

export interface EngineStats {
  snapshots: number;
  redelivered: number;
  lateEvents: number;
}

export class AlertEngine {
  private readonly s: EngineState;
  private readonly series = new Map<string, RateSeries>();
  private readonly alerts = new Map<string, AlertState>();
  private readonly rateRules: RateRule[];
  private stale: StaleFacts | null = null;
  readonly stats: EngineStats = { snapshots: 0, redelivered: 0, lateEvents: 0 };

  constructor(
    readonly rules: readonly Rule[],
    state: EngineState = emptyEngineState(),
  ) {
    this.s = state;
    this.rateRules = rules.filter(isRateRule);
    const byName = new Map(rules.map((r) => [r.name, r]));
    for (const [key, st] of Object.entries(state.series)) {
      const rule = byName.get(key.slice(0, key.indexOf('|')));
      if (rule && isRateRule(rule)) this.series.set(key, new RateSeries(rule.windowMs, rule.baseline, st));
    }
    // Alerts of rules that no longer exist are dropped (the rules file changed).
    for (const a of state.alerts) if (byName.has(a.rule)) this.alerts.set(seriesKey(a.rule, a.subject), a);
  }

  /** The whole state, for saving (a fresh plain object). */
  state(): EngineState {
    const series: Record<string, SeriesState> = {};
    for (const [k, v] of this.series) series[k] = v.state();
    return { ...this.s, series, alerts: [...this.alerts.values()] };
  }

  /** Pending and firing alerts. */
  active(): AlertState[] {
    return [...this.alerts.values()];
  }

  /** The event clock at wall time `wallMs`. */
  eventNow(wallMs: number): number {
    const { watermark, wallAtWatermark } = this.s;
    const now =
      watermark === null || wallAtWatermark === null
        ? wallMs
        : watermark + Math.max(0, wallMs - wallAtWatermark);
    this.s.eventNow = Math.max(this.s.eventNow ?? now, now);
    return this.s.eventNow;
  }

  ingestSnapshot(key: string, k: MovieKpis, wallMs: number): void {
    this.stats.snapshots += 1;
    const prev = this.s.movies[key];
    if (prev && k.snapshot_version <= prev.version) {
      this.stats.redelivered += 1;
      return;
    }
    const ts = k.last_event_ts_ms;
    if (this.s.watermark === null || ts > this.s.watermark) {
      this.s.watermark = ts;
      this.s.wallAtWatermark = wallMs;
    }
    this.s.movies[key] = {
      version: k.snapshot_version,
      newBookings: k.new_bookings,
      statusChanges: k.status_changes,
      valid: k.valid_bookings,
      total: k.total_bookings,
    };
    if (!prev) return;
    // Counters only grow; a smaller one (a database rebuilt from less history) counts nothing.
    const bookings = Math.max(0, k.new_bookings - prev.newBookings);
    const cancellations = Math.max(0, k.status_changes - prev.statusChanges);
    for (const rule of this.rateRules) {
      const n = rule.metric === 'bookings' ? bookings : cancellations;
      if (rule.subjects.includes('movies') && key !== NO_MOVIE_KEY) this.count(rule, key, ts, n);
      if (rule.subjects.includes('pipeline')) this.count(rule, PIPELINE, ts, n);
    }
  }

  /** The sum of the dead-letter topic's end offsets, sampled at `wallMs`. */
  ingestDeadLetterTotal(total: number, wallMs: number): void {
    const d = this.s.deadLetters;
    if (d.total !== null && total > d.total) d.recent.push([wallMs, total - d.total]);
    d.total = total;
    const keep = Math.max(0, ...this.rules.map((r) => (r.type === 'dead_letters' ? r.windowMs : 0)));
    while (d.recent.length > 0 && d.recent[0]![0] <= wallMs - keep) d.recent.shift();
  }

  ingestPipeline(facts: StaleFacts): void {
    this.stale = facts;
  }

  /** Applies every rule to every subject at wall time `wallMs`; returns the transitions. */
  evaluate(wallMs: number): Transition[] {
    const eventNow = this.eventNow(wallMs);
    const out: Transition[] = [];
    for (const rule of this.rules) {
      const now = ruleClock(rule) === 'EVENT' ? eventNow : wallMs;
      for (const [subject, verdict] of this.verdicts(rule, now)) {
        const key = seriesKey(rule.name, subject);
        const r = step(this.alerts.get(key) ?? null, verdict, now, rule, { rule: rule.name, subject });
        if (r.state) this.alerts.set(key, r.state);
        else this.alerts.delete(key);
        if (r.transition) out.push(r.transition);
      }
    }
    return out;
  }

  private count(rule: RateRule, subject: string, ts: number, n: number): void {
    const key = seriesKey(rule.name, subject);
    let s = this.series.get(key);
    if (!s) {
      s = new RateSeries(rule.windowMs, rule.baseline);
      this.series.set(key, s);
    }
    if (!s.add(ts, n)) this.stats.lateEvents += n;
  }

  private *verdicts(rule: Rule, now: number): Generator<[string, Verdict]> {
    // Subjects with an active alert are always judged (their data may have gone).
    const judged = new Set<string>();
    const emit = function* (subject: string, v: Verdict): Generator<[string, Verdict]> {
      judged.add(subject);
      yield [subject, v];
    };
    switch (rule.type) {
      case 'cancellation_spike':
      case 'booking_surge':
      case 'booking_drop':
        for (const [key, s] of this.series) {
          if (!key.startsWith(`${rule.name}|`)) continue;
          s.advance(now);
          const subject = key.slice(rule.name.length + 1);
          yield* emit(subject, evaluateRate(rule, subject, s.count(), s.expectation(now)));
        }
        break;
      case 'data_quality_low': {
        if (rule.subjects.includes('movies')) {
          for (const [key, m] of Object.entries(this.s.movies)) {
            if (key !== NO_MOVIE_KEY) yield* emit(key, evaluateQuality(rule, key, m));
          }
        }
        if (rule.subjects.includes('pipeline')) {
          const all: QualityFacts = { valid: 0, total: 0 };
          for (const m of Object.values(this.s.movies)) {
            all.valid += m.valid;
            all.total += m.total;
          }
          yield* emit(
            PIPELINE,
            evaluateQuality(rule, PIPELINE, Object.keys(this.s.movies).length ? all : undefined),
          );
        }
        break;
      }
      case 'dead_letters': {
        const d = this.s.deadLetters;
        const count =
          d.total === null
            ? null
            : d.recent.filter(([at]) => at > now - rule.windowMs).reduce((n, [, c]) => n + c, 0);
        yield* emit(PIPELINE, evaluateDeadLetters(rule, count));
        break;
      }
      case 'pipeline_stale':
        yield* emit(PIPELINE, evaluateStale(rule, this.stale));
        break;
    }
    for (const a of this.alerts.values()) {
      if (a.rule === rule.name && !judged.has(a.subject)) {
        yield [a.subject, { state: 'unknown', value: null, threshold: null, baseline: null, summary: '' }];
      }
    }
  }
}
