import {
  AlertEngine,
  alertRecord,
  parseRules,
  RateSeries,
  step,
  type AlertState,
  type Rule,
  type Transition,
  type Verdict,
} from '@cdc/alerts';
import { snapshot } from '../support/kpis';

/** The engine without I/O: time is passed in; inputs are gold snapshots, offsets and lag samples. */
const T0 = Date.UTC(2026, 0, 5, 12, 0);
const S = 1000;
const M = 60_000;

const verdict = (state: Verdict['state'], value = 0): Verdict => ({
  state,
  value,
  threshold: null,
  baseline: null,
  summary: state,
});

describe('lifecycle (pending, firing, resolved, with hysteresis)', () => {
  const timing = { forMs: 30 * S, keepFiringForMs: 60 * S };
  const key = { rule: 'r', subject: 'M001' };
  /** Runs verdicts one per second from T0; returns the transitions with their times. */
  const run = (states: Verdict['state'][]): { kind: string; at: number }[] => {
    let s: AlertState | null = null;
    const out: { kind: string; at: number }[] = [];
    states.forEach((v, i) => {
      const r = step(s, verdict(v), T0 + i * S, timing, key);
      s = r.state;
      if (r.transition) out.push({ kind: r.transition.kind, at: (r.transition.at - T0) / S });
    });
    return out;
  };
  const repeat = (v: Verdict['state'], n: number): Verdict['state'][] =>
    new Array<Verdict['state']>(n).fill(v);

  it('fires once the condition has held for `for`, and resolves once clear for `keep_firing_for`', () => {
    expect(run([...repeat('breach', 40), ...repeat('clear', 70)])).toEqual([
      { kind: 'fired', at: 30 },
      { kind: 'resolved', at: 100 },
    ]);
  });

  it('a breach shorter than `for` never fires (and notifies nothing)', () => {
    expect(run([...repeat('breach', 29), 'clear', ...repeat('breach', 29), ...repeat('clear', 10)])).toEqual(
      [],
    );
  });

  it('does not flap: a value hovering between the thresholds keeps a firing alert firing', () => {
    const hovering = Array.from(
      { length: 300 },
      (_, i) => (['hold', 'breach', 'hold', 'clear'] as const)[i % 4]!,
    );
    expect(run([...repeat('breach', 31), ...hovering])).toEqual([{ kind: 'fired', at: 30 }]);
  });

  it('unknown (no data) changes nothing; the alert id is fixed when it becomes pending', () => {
    let s: AlertState | null = null;
    const transitions: Transition[] = [];
    for (const [i, v] of (['breach', 'unknown', 'breach', 'unknown', 'clear'] as const).entries()) {
      const r = step(s, verdict(v), T0 + i * 20 * S, { forMs: 30 * S, keepFiringForMs: 0 }, key);
      s = r.state;
      if (r.transition) transitions.push(r.transition);
    }
    expect(transitions.map((t) => [t.kind, t.state.alertId])).toEqual([
      ['fired', `r/M001/${T0}`],
      ['resolved', `r/M001/${T0}`],
    ]);
  });
});

describe('rate series', () => {
  const spec = { kind: 'trailing' as const, halfLifeMs: 30 * M, warmUpMs: 3 * M, timeZone: 'UTC' };

  it('the baseline is what was seen: no history before the first count, warm-up first', () => {
    const s = new RateSeries(2 * M, spec);
    for (let t = 0; t < 5 * M; t += S) {
      s.add(T0 + t, 1);
      s.advance(T0 + t);
      // Window 2m + warm-up 3m: unknown until five minutes have been seen.
      if (t < 5 * M - 10 * S) expect(s.expectation(T0 + t)).toBeNull();
    }
    s.advance(T0 + 5 * M);
    const e = s.expectation(T0 + 5 * M)!;
    expect(e.source).toBe('trailing');
    expect(e.expected).toBeCloseTo(120, 6);
    expect(s.count()).toBeGreaterThanOrEqual(110);
  });

  it('drops counts older than the window (late) and starts over after a week of silence', () => {
    const s = new RateSeries(M, spec);
    s.add(T0, 5);
    s.advance(T0 + 2 * M);
    expect(s.add(T0, 1)).toBe(false);
    expect(s.count()).toBe(0);
    s.add(T0 + 8 * 86_400_000, 3);
    expect(s.count()).toBe(3);
    expect(s.expectation(T0 + 8 * 86_400_000)).toBeNull();
  });
});

const SPIKE_RULES = `
rules:
  - type: cancellation_spike
    window: 2m
    min_count: 20
    ratio: 3
    z_score: 4
    clear_ratio: 1.5
    baseline: { half_life: 30m, warm_up: 3m }
    for: 30s
    keep_firing_for: 1m
    severity: warning
    labels: { team: bookings }
`;

/**
 * Two movies' gold snapshots every 5 s of event time (wall = event time here), each with steady
 * counters (M001: 1 cancellation and 4 bookings per snapshot; M002: 1 booking); `extra(t)` adds
 * cancellations of M001 at event time t.
 */
function feed(
  engine: AlertEngine,
  from: number,
  to: number,
  extra: (t: number) => number,
  state: { v: number; c: number; b: number },
): Transition[] {
  const out: Transition[] = [];
  for (let t = from; t < to; t += 5 * S) {
    state.v += 1;
    state.c += 1 + extra(t);
    state.b += 4;
    engine.ingestSnapshot(
      'M001',
      snapshot('M001', state.v, T0 + t, {
        status_changes: state.c,
        new_bookings: state.b,
        total_bookings: state.b,
        valid_bookings: state.b,
      }),
      T0 + t,
    );
    engine.ingestSnapshot(
      'M002',
      snapshot('M002', state.v, T0 + t, {
        new_bookings: state.v,
        total_bookings: state.v,
        valid_bookings: state.v,
      }),
      T0 + t,
    );
    out.push(...engine.evaluate(T0 + t));
  }
  return out;
}

describe('alert engine', () => {
  const rules: Rule[] = parseRules(SPIKE_RULES, 'test.yaml');

  it('steady traffic fires nothing; a spike fires for its movie after `for` and resolves after it ends', () => {
    const engine = new AlertEngine(rules);
    const counters = { v: 0, c: 0, b: 0 };
    expect(feed(engine, 0, 20 * M, () => 0, counters)).toEqual([]);
    // 120 more cancellations of M001 in two minutes.
    const spike = feed(engine, 20 * M, 22 * M, () => 5, counters);
    const fired = spike.filter((t) => t.kind === 'fired');
    expect(fired).toHaveLength(1);
    expect(fired[0]!.state).toMatchObject({ rule: 'cancellation_spike', subject: 'M001', phase: 'firing' });
    expect(fired[0]!.at - fired[0]!.state.activeSince).toBeGreaterThanOrEqual(30 * S);
    const after = feed(engine, 22 * M, 32 * M, () => 0, counters);
    expect(after.map((t) => [t.kind, t.state.subject])).toEqual([['resolved', 'M001']]);
    expect(after[0]!.state.alertId).toBe(fired[0]!.state.alertId);

    const record = alertRecord(rules[0]!, fired[0]!, T0);
    expect(record).toMatchObject({
      alert_id: fired[0]!.state.alertId,
      rule: 'cancellation_spike',
      rule_type: 'cancellation_spike',
      subject: 'M001',
      movie_id: 'M001',
      status: 'FIRING',
      severity: 'warning',
      labels: { team: 'bookings' },
      clock: 'EVENT',
      resolved_at: null,
      sequence: 1,
    });
    expect(record.value).toBeGreaterThanOrEqual(20);
    expect(alertRecord(rules[0]!, after[0]!, T0)).toMatchObject({ status: 'RESOLVED', sequence: 2 });
  });

  it('a restart from the saved state neither fires again nor forgets the firing alert', () => {
    const engine = new AlertEngine(rules);
    const counters = { v: 0, c: 0, b: 0 };
    feed(engine, 0, 20 * M, () => 0, counters);
    const fired = feed(engine, 20 * M, 22 * M, () => 5, counters);
    expect(fired).toHaveLength(1);
    const saved = JSON.parse(JSON.stringify(engine.state())) as ReturnType<AlertEngine['state']>;

    const restarted = new AlertEngine(rules, saved);
    expect(restarted.active().map((a) => [a.alertId, a.phase])).toEqual([
      [fired[0]!.state.alertId, 'firing'],
    ]);
    // Gold is read again from the committed offsets: re-delivered snapshots count nothing.
    const again = { ...counters };
    expect(restarted.evaluate(T0 + 22 * M)).toEqual([]);
    restarted.ingestSnapshot(
      'M001',
      snapshot('M001', counters.v, T0 + 22 * M, { status_changes: counters.c }),
      T0 + 22 * M,
    );
    expect(restarted.stats.redelivered).toBe(1);
    const after = feed(restarted, 22 * M, 32 * M, () => 0, again);
    expect(after.map((t) => [t.kind, t.state.alertId])).toEqual([['resolved', fired[0]!.state.alertId]]);
  });

  it('dead letters: any new dead letter in the window fires at once; resolves when the window has passed', () => {
    const engine = new AlertEngine(parseRules('rules:\n  - type: dead_letters\n    window: 1m\n', 'x.yaml'));
    engine.ingestDeadLetterTotal(0, T0);
    expect(engine.evaluate(T0)).toEqual([]);
    engine.ingestDeadLetterTotal(2, T0 + 10 * S);
    const fired = engine.evaluate(T0 + 10 * S);
    expect(fired.map((t) => [t.kind, t.state.subject, t.verdict.value])).toEqual([['fired', 'pipeline', 2]]);
    engine.ingestDeadLetterTotal(2, T0 + 40 * S);
    expect(engine.evaluate(T0 + 40 * S)).toEqual([]);
    engine.ingestDeadLetterTotal(2, T0 + 71 * S);
    expect(engine.evaluate(T0 + 71 * S).map((t) => t.kind)).toEqual(['resolved']);
  });

  it('data quality: fires below the threshold, holds in the band, resolves above clear_above', () => {
    const engine = new AlertEngine(
      parseRules(
        'rules:\n  - type: data_quality_low\n    subjects: movies\n    below: 80\n    clear_above: 90\n    min_bookings: 10\n',
        'x.yaml',
      ),
    );
    const q = (v: number, valid: number) => {
      engine.ingestSnapshot(
        'M001',
        snapshot('M001', v, T0 + v * S, { total_bookings: 100, valid_bookings: valid }),
        T0 + v * S,
      );
      return engine.evaluate(T0 + v * S).map((t) => t.kind);
    };
    expect(q(1, 95)).toEqual([]);
    expect(q(2, 70)).toEqual(['fired']);
    expect(q(3, 85)).toEqual([]);
    expect(q(4, 79)).toEqual([]);
    expect(q(5, 91)).toEqual(['resolved']);
  });

  it('pipeline_stale: lag over the threshold fires; it resolves only below clear_ratio of it', () => {
    const engine = new AlertEngine(
      parseRules('rules:\n  - type: pipeline_stale\n    max_lag: 1000\n    max_freshness: 1m\n', 'x.yaml'),
    );
    const at = (s: number, lag: number) => {
      engine.ingestPipeline({ lag, freshnessMs: 0 });
      return engine.evaluate(T0 + s * S).map((t) => t.kind);
    };
    expect(engine.evaluate(T0)).toEqual([]);
    expect(at(1, 1500)).toEqual(['fired']);
    expect(at(2, 800)).toEqual([]);
    expect(at(3, 400)).toEqual(['resolved']);
  });
});
