import { readFileSync } from 'node:fs';
import path from 'node:path';
import { AlertEngine, BUCKET_MS, parseRules, type AlertState, type Rule, type Transition } from '@cdc/alerts';
import { seededRandom, testSeed } from '@cdc/testing';
import { snapshot } from '../support/kpis';

/**
 * `evaluateChanged` judges only what can have changed since the last evaluation (the subjects of
 * new inputs; with time alone: rate rules in a new bucket of event time, dead letters in their
 * window, pending and clearing alerts) and must give exactly the transitions of judging everything.
 */
const T0 = Date.UTC(2026, 0, 5, 12, 0); // a bucket's start
const S = 1000;
const M = 60_000;

const DEFAULT_RULES = parseRules(
  readFileSync(path.join(__dirname, '../../alerts.yaml'), 'utf8'),
  'alerts.yaml',
);

/** Short windows and `for`s, so that a few simulated minutes fire and resolve every kind of rule. */
const FAST_RULES = parseRules(
  `
rules:
  - type: cancellation_spike
    subjects: [movies, pipeline]
    window: 1m
    min_count: 5
    ratio: 2
    z_score: 2
    clear_ratio: 1.5
    baseline: { kind: trailing, half_life: 5m, warm_up: 1m }
    for: 10s
    keep_firing_for: 20s
  - type: booking_drop
    subjects: [movies, pipeline]
    window: 1m
    min_expected: 5
    ratio: 2
    z_score: 1
    clear_ratio: 1.5
    baseline: { kind: time_of_day, half_life: 5m, warm_up: 1m, time_zone: UTC }
    for: 10s
    keep_firing_for: 20s
  - type: data_quality_low
    subjects: [movies, pipeline]
    below: 80
    clear_above: 85
    min_bookings: 10
    for: 5s
    keep_firing_for: 5s
  - type: dead_letters
    window: 30s
    min_count: 1
  - type: pipeline_stale
    max_lag: 100
    max_freshness: 1m
    clear_ratio: 0.5
    for: 5s
    keep_firing_for: 5s
`,
  'fast.yaml',
);

/** The transitions of one evaluation (their order within it is not meaningful). */
const summary = (ts: Transition[]): string[] => ts.map((t) => `${t.kind} ${t.state.alertId} @${t.at}`).sort();

const byId = (alerts: AlertState[]): AlertState[] =>
  [...alerts].sort((a, b) => a.alertId.localeCompare(b.alertId));

describe('evaluateChanged: only what changed, the same transitions', () => {
  it('gives the transitions and state of judging everything every time (random inputs)', () => {
    const seed = testSeed('evaluateChanged equals evaluate');
    const r = seededRandom(seed);
    const all = new AlertEngine(FAST_RULES);
    const changed = new AlertEngine(FAST_RULES);
    const movies = ['M001', 'M002', 'M003', 'M004', 'M005'];
    const counters = new Map(movies.map((m) => [m, { v: 0, b: 0, c: 0, valid: 0, total: 0 }]));
    let dead = 0;
    let wall = T0;
    const seen: Transition[] = [];
    // Phases of 2 minutes: steady, a cancellation spike, silence (a drop), bad data, trouble.
    for (let step = 0; wall < T0 + 20 * M; step += 1) {
      wall += r.int(50, 3000);
      const phase = Math.floor((wall - T0) / (2 * M)) % 5;
      const inputs: (() => void)[] = [];
      if (phase !== 2 && r.chance(0.7)) {
        const m = r.oneOf(movies);
        const k = counters.get(m)!;
        k.v += 1;
        k.b += r.int(1, 4);
        k.c += phase === 1 && m === 'M002' ? r.int(3, 8) : r.int(0, 1);
        k.total += r.int(1, 3);
        k.valid = phase === 3 && m === 'M004' ? Math.floor(k.total / 2) : k.total;
        const ts = wall - r.int(0, 2000);
        const snap = snapshot(m, k.v, ts, {
          new_bookings: k.b,
          status_changes: k.c,
          total_bookings: k.total,
          valid_bookings: k.valid,
        });
        inputs.push(() => {
          all.ingestSnapshot(m, snap, wall);
          changed.ingestSnapshot(m, snap, wall);
        });
        if (r.chance(0.1)) {
          // A re-delivered snapshot counts nothing.
          inputs.push(() => {
            all.ingestSnapshot(m, snap, wall);
            changed.ingestSnapshot(m, snap, wall);
          });
        }
      }
      // Trouble starts with a stall: for its first 30 s the pipeline reports a lag at every step
      // (so pipeline_stale holds past its `for`) and dead letters arrive (at least one batch).
      const stalled = phase === 4 && (wall - T0) % (2 * M) < 30 * S;
      if (stalled || r.chance(0.2)) {
        if (phase === 4 && (dead === 0 || r.chance(0.2))) dead += r.int(1, 3);
        const lag = stalled ? 500 : phase === 4 ? r.oneOf([0, 50, 500]) : r.oneOf([0, 0, 10]);
        const facts = { lag, freshnessMs: lag > 0 ? r.int(0, 5000) : 0 };
        inputs.push(() => {
          all.ingestDeadLetterTotal(dead, wall);
          changed.ingestDeadLetterTotal(dead, wall);
          all.ingestPipeline(facts);
          changed.ingestPipeline(facts);
        });
      }
      for (const input of inputs) input();
      const expected = all.evaluate(wall);
      const got = changed.evaluateChanged(wall);
      expect({ step, transitions: summary(got) }).toEqual({ step, transitions: summary(expected) });
      expect(byId(changed.active())).toEqual(byId(all.active()));
      seen.push(...expected);
    }
    // Every kind of rule went through its lifecycle, so the comparison above means something.
    const rulesFired = new Set(seen.filter((t) => t.kind === 'fired').map((t) => t.state.rule));
    expect([...rulesFired].sort()).toEqual(
      ['booking_drop', 'cancellation_spike', 'data_quality_low', 'dead_letters', 'pipeline_stale'].sort(),
    );
    expect(seen.some((t) => t.kind === 'resolved')).toBe(true);
    // A last full evaluation moves every series to now: then the saved states are the same.
    all.evaluate(wall);
    changed.evaluate(wall);
    expect({ ...changed.state(), alerts: byId(changed.state().alerts) }).toEqual({
      ...all.state(),
      alerts: byId(all.state().alerts),
    });
    expect(changed.stats.judged).toBeLessThan(all.stats.judged / 2);
  });

  describe('with the default rules and 20 movies', () => {
    const movies = Array.from({ length: 20 }, (_, i) => `M${String(i + 1).padStart(3, '0')}`);
    /** An engine that has seen two snapshots of every movie (so each has its rate series). */
    const warm = (rules: Rule[] = DEFAULT_RULES): AlertEngine => {
      const engine = new AlertEngine(rules);
      for (const v of [1, 2])
        for (const m of movies) {
          engine.ingestSnapshot(
            m,
            snapshot(m, v, T0, { new_bookings: v, total_bookings: v, valid_bookings: v }),
            T0,
          );
        }
      engine.evaluateChanged(T0);
      return engine;
    };
    const judgedBy = (engine: AlertEngine, wall: number): number => {
      const before = engine.stats.judged;
      engine.evaluateChanged(wall);
      return engine.stats.judged - before;
    };

    it('judges everything first; then nothing while idle within a bucket of event time', () => {
      const engine = new AlertEngine(DEFAULT_RULES);
      for (const m of movies) engine.ingestSnapshot(m, snapshot(m, 1, T0, {}), T0);
      // Rate series start with a movie's second snapshot; quality, staleness, dead letters: 21 + 1 + 1.
      expect(judgedBy(engine, T0)).toBe(movies.length + 1 + 1 + 1);
      const warmed = warm();
      for (let t = 250; t < BUCKET_MS; t += 250) expect(judgedBy(warmed, T0 + t)).toBe(0);
    });

    it('after a gold batch, judges only its movies and the pipeline', () => {
      const engine = warm();
      engine.ingestSnapshot(
        'M007',
        snapshot('M007', 3, T0 + 2 * S, { new_bookings: 9, total_bookings: 9, valid_bookings: 9 }),
        T0 + 2 * S,
      );
      // cancellation_spike (movies) 1, booking_surge 2, booking_drop 2, data_quality_low 2.
      expect(judgedBy(engine, T0 + 2 * S)).toBe(7);
      expect(judgedBy(engine, T0 + 2 * S + 250)).toBe(0);
    });

    it('judges the rate rules once per new bucket of event time (their windows move a bucket at a time)', () => {
      const engine = warm();
      expect(judgedBy(engine, T0 + BUCKET_MS - 1)).toBe(0);
      // cancellation_spike: 20 movies; booking_surge and booking_drop: 20 movies and the pipeline.
      expect(judgedBy(engine, T0 + BUCKET_MS)).toBe(20 + 21 + 21);
      expect(judgedBy(engine, T0 + BUCKET_MS + 250)).toBe(0);
    });

    it('judges a pending alert on every pass, so it fires on time without new input', () => {
      const engine = warm();
      engine.ingestPipeline({ lag: 50_000, freshnessMs: 0 });
      expect(engine.evaluateChanged(T0 + 1 * S)).toEqual([]);
      expect(engine.active().map((a) => [a.rule, a.phase])).toEqual([['pipeline_stale', 'pending']]);
      let fired: Transition[] = [];
      let t = 1 * S;
      while (fired.length === 0 && t < 2 * M) {
        t += 250;
        engine.ingestPipeline({ lag: 50_000, freshnessMs: 0 }); // the same sample: no new input
        fired = engine.evaluateChanged(T0 + t);
      }
      expect(fired.map((f) => [f.kind, f.state.rule])).toEqual([['fired', 'pipeline_stale']]);
      expect(t).toBe(61 * S); // `for: 1m` after it became pending
      // Firing and not clearing: nothing moves it with time alone (apart from the rate rules' buckets).
      expect(judgedBy(engine, T0 + t + 250)).toBe(0);
    });

    it('judges dead letters while some are in the window, and resolves them when they leave it', () => {
      const engine = warm();
      engine.ingestDeadLetterTotal(0, T0);
      engine.evaluateChanged(T0);
      engine.ingestDeadLetterTotal(1, T0 + 1 * S);
      expect(engine.evaluateChanged(T0 + 1 * S).map((t) => t.kind)).toEqual(['fired']);
      let resolvedAt: number | null = null;
      for (let t = 1 * S + 250; t < 12 * M && resolvedAt === null; t += 250) {
        if (engine.evaluateChanged(T0 + t).some((x) => x.kind === 'resolved')) resolvedAt = t;
      }
      expect(resolvedAt).toBe(1 * S + 10 * M); // as it leaves the 10m window
      engine.ingestDeadLetterTotal(1, T0 + 12 * M);
      engine.evaluateChanged(T0 + 12 * M);
      expect(judgedBy(engine, T0 + 12 * M + 250)).toBe(0);
    });

    it('its revision moves only when the state worth saving changed', () => {
      const engine = warm();
      const r0 = engine.revision;
      for (let t = 250; t < M; t += 250) engine.evaluateChanged(T0 + t);
      engine.ingestPipeline({ lag: 0, freshnessMs: 0 });
      engine.evaluateChanged(T0 + M);
      expect(engine.revision).toBe(r0);
      const again = snapshot('M001', 2, T0, { new_bookings: 2, total_bookings: 2, valid_bookings: 2 });
      engine.ingestSnapshot('M001', again, T0 + M); // re-delivered
      expect(engine.revision).toBe(r0);
      engine.ingestSnapshot('M001', { ...again, snapshot_version: 3 }, T0 + M);
      expect(engine.revision).toBeGreaterThan(r0);
    });
  });
});
