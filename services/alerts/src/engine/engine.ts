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
import { ChangeTracker, type Scope } from './changes';
import { step, type AlertState, type Transition } from './lifecycle';
import { BUCKET_MS, RateSeries, type SeriesState } from './series';
import { emptyEngineState, PIPELINE, seriesKey, type EngineState } from './state';

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
 *
 * Its state is one plain object (state.ts); what changed since the last evaluation is tracked
 * by changes.ts.
 */
export interface EngineStats {
  snapshots: number;
  redelivered: number;
  lateEvents: number;
  /** Verdicts computed (one rule, one subject): what evaluations cost. */
  judged: number;
}

export class AlertEngine {
  private readonly s: EngineState;
  private readonly series = new Map<string, RateSeries>();
  private readonly alerts = new Map<string, AlertState>();
  private readonly rateRules: RateRule[];
  private stale: StaleFacts | null = null;
  readonly stats: EngineStats = { snapshots: 0, redelivered: 0, lateEvents: 0, judged: 0 };
  /** What changed since the last evaluation, for `evaluateChanged`. */
  private readonly changes = new ChangeTracker();
  private rev = 0;

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

  /**
   * Moves on whenever the state worth saving changes (a snapshot counted, a dead-letter count, an
   * alert's state); not when only the clocks move (the event clock is derived from the watermark,
   * a series' window slides the same whenever it is moved). The service saves only when it did.
   */
  get revision(): number {
    return this.rev;
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
    this.rev += 1;
    this.changes.movieChanged(key);
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
    const before = d.recent.length;
    if (d.total !== null && total > d.total) d.recent.push([wallMs, total - d.total]);
    const changed = d.total !== total || d.recent.length !== before;
    d.total = total;
    const keep = Math.max(0, ...this.rules.map((r) => (r.type === 'dead_letters' ? r.windowMs : 0)));
    while (d.recent.length > 0 && d.recent[0]![0] <= wallMs - keep) d.recent.shift();
    if (changed || d.recent.length !== before) {
      this.rev += 1;
      this.changes.deadLettersChanged();
    }
  }

  ingestPipeline(facts: StaleFacts): void {
    const s = this.stale;
    if (s === null || s.lag !== facts.lag || s.freshnessMs !== facts.freshnessMs) this.changes.staleChanged();
    this.stale = facts;
  }

  /** Applies every rule to every subject at wall time `wallMs`; returns the transitions. */
  evaluate(wallMs: number): Transition[] {
    this.changes.judgeAll();
    return this.evaluateChanged(wallMs);
  }

  /**
   * The same transitions as `evaluate`, judging only what can have changed since the last
   * evaluation: a subject's verdict changes only with its inputs or, for some rules, with time;
   * judged again with the same verdict, an alert moves on only while pending or clearing.
   * - the subjects whose inputs came (the movies of the snapshots, and the pipeline with them;
   *   the dead letters, the pipeline's lag and freshness when their sample differs);
   * - with time alone: the rate rules when the event clock enters a new bucket (their windows and
   *   baselines move a bucket at a time; an hour of day starts at a bucket's start), the dead
   *   letters while some are in the window (they leave it), and the pending and clearing alerts
   *   (`for`, `keep_firing_for`). Data quality and staleness change only with their inputs.
   * With no traffic, most calls judge nothing.
   */
  evaluateChanged(wallMs: number): Transition[] {
    const eventNow = this.eventNow(wallMs);
    const bucket = Math.floor(eventNow / BUCKET_MS);
    const out: Transition[] = [];
    for (const rule of this.rules) {
      const now = ruleClock(rule) === 'EVENT' ? eventNow : wallMs;
      const scope = this.changes.scope(
        rule,
        bucket,
        this.s.deadLetters.recent.length > 0,
        this.alerts.values(),
      );
      if (scope !== 'all' && scope.size === 0) continue;
      for (const [subject, verdict] of this.verdicts(rule, now, scope)) {
        this.stats.judged += 1;
        const key = seriesKey(rule.name, subject);
        const prev = this.alerts.get(key) ?? null;
        const r = step(prev, verdict, now, rule, { rule: rule.name, subject });
        if (r.state !== prev) this.rev += 1;
        if (r.state) this.alerts.set(key, r.state);
        else this.alerts.delete(key);
        if (r.transition) out.push(r.transition);
      }
    }
    this.changes.judged(bucket);
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

  private *verdicts(rule: Rule, now: number, scope: Scope): Generator<[string, Verdict]> {
    // Subjects with an active alert are always judged (their data may have gone).
    const judged = new Set<string>();
    const inScope = (subject: string): boolean => scope === 'all' || scope.has(subject);
    const emit = function* (subject: string, v: Verdict): Generator<[string, Verdict]> {
      judged.add(subject);
      yield [subject, v];
    };
    switch (rule.type) {
      case 'cancellation_spike':
      case 'booking_surge':
      case 'booking_drop': {
        const judge = function* (subject: string, s: RateSeries): Generator<[string, Verdict]> {
          s.advance(now);
          yield* emit(subject, evaluateRate(rule, subject, s.count(), s.expectation(now)));
        };
        if (scope === 'all') {
          for (const [key, s] of this.series) {
            if (key.startsWith(`${rule.name}|`)) yield* judge(key.slice(rule.name.length + 1), s);
          }
        } else {
          for (const subject of scope) {
            const s = this.series.get(seriesKey(rule.name, subject));
            if (s) yield* judge(subject, s);
          }
        }
        break;
      }
      case 'data_quality_low': {
        if (rule.subjects.includes('movies')) {
          const movies = scope === 'all' ? Object.keys(this.s.movies) : scope;
          for (const key of movies) {
            const m = this.s.movies[key];
            if (m && key !== NO_MOVIE_KEY) yield* emit(key, evaluateQuality(rule, key, m));
          }
        }
        if (rule.subjects.includes('pipeline') && inScope(PIPELINE)) {
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
        if (!inScope(PIPELINE)) break;
        const d = this.s.deadLetters;
        const count =
          d.total === null
            ? null
            : d.recent.filter(([at]) => at > now - rule.windowMs).reduce((n, [, c]) => n + c, 0);
        yield* emit(PIPELINE, evaluateDeadLetters(rule, count));
        break;
      }
      case 'pipeline_stale':
        if (inScope(PIPELINE)) yield* emit(PIPELINE, evaluateStale(rule, this.stale));
        break;
    }
    for (const a of this.alerts.values()) {
      if (a.rule === rule.name && !judged.has(a.subject) && inScope(a.subject)) {
        yield [a.subject, { state: 'unknown', value: null, threshold: null, baseline: null, summary: '' }];
      }
    }
  }
}
