import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Alert } from '@cdc/core';
import {
  AlertEngine,
  AlertStore,
  KAFKA_DESTINATION,
  emptyEngineState,
  idempotencyKey,
  parseRules,
  webhookDestination,
} from '@cdc/alerts';

/**
 * The alerts service's SQLite store: the engine state, the transitions (once each) and the
 * outbox (one delivery per transition and destination). In memory, or in a temporary file where
 * a reopen is the point.
 */
const HOOK = webhookDestination('http://127.0.0.1:9/hook');
const DESTINATIONS = [KAFKA_DESTINATION, HOOK];
const T0 = Date.UTC(2026, 0, 5, 12, 0);

function transition(subject: string, status: Alert['status'], activeSince = T0): Alert {
  return {
    alert_id: `cancellation_spike/${subject}/${activeSince}`,
    rule: 'cancellation_spike',
    rule_type: 'cancellation_spike',
    subject,
    movie_id: subject,
    status,
    severity: 'warning',
    labels: { team: 'bookings' },
    summary: `${subject}: 75 cancellations in 2m`,
    value: 75,
    threshold: 52,
    baseline: 17.1,
    clock: 'EVENT',
    active_since: activeSince,
    fired_at: activeSince,
    resolved_at: status === 'RESOLVED' ? activeSince + 60_000 : null,
    transition_at: activeSince + (status === 'RESOLVED' ? 60_000 : 0),
    sequence: status === 'RESOLVED' ? 2 : 1,
  };
}

describe('alert store: the outbox', () => {
  let store: AlertStore;
  beforeEach(() => {
    store = AlertStore.open(':memory:');
  });
  afterEach(() => store.close());

  it('a saved transition is pending for every destination, oldest first per destination', () => {
    const ids = store.save(
      emptyEngineState(),
      [transition('M001', 'FIRING'), transition('M002', 'FIRING')],
      DESTINATIONS,
      T0,
    );
    expect(ids).toHaveLength(2);
    expect(Object.fromEntries(store.backlog())).toEqual({ [KAFKA_DESTINATION]: 2, [HOOK]: 2 });
    for (const d of DESTINATIONS) {
      expect(store.nextDelivery(d)).toMatchObject({
        transitionId: ids[0],
        destination: d,
        attempts: 0,
        nextAttemptAt: 0,
        record: transition('M001', 'FIRING'),
      });
    }
    // Delivered to one destination: that one moves on, the other still has it.
    store.delivered(store.nextDelivery(KAFKA_DESTINATION)!, T0 + 1);
    expect(store.nextDelivery(KAFKA_DESTINATION)?.record.subject).toBe('M002');
    expect(store.nextDelivery(HOOK)?.record.subject).toBe('M001');
  });

  it('a failed attempt counts and waits; the transition stays first in line', () => {
    store.save(emptyEngineState(), [transition('M001', 'FIRING'), transition('M002', 'FIRING')], [HOOK], T0);
    store.failed(store.nextDelivery(HOOK)!, 'HTTP 500', T0 + 500);
    store.failed(store.nextDelivery(HOOK)!, 'HTTP 503', T0 + 1500);
    expect(store.nextDelivery(HOOK)).toMatchObject({
      attempts: 2,
      nextAttemptAt: T0 + 1500,
      record: { subject: 'M001' },
    });
    store.delivered(store.nextDelivery(HOOK)!, T0 + 2000);
    expect(store.nextDelivery(HOOK)).toMatchObject({ attempts: 0, record: { subject: 'M002' } });
  });

  it('a transition is recorded once: saved again it is not re-sent, delivered or not', () => {
    const firing = transition('M001', 'FIRING');
    expect(store.save(emptyEngineState(), [firing], DESTINATIONS, T0)).toHaveLength(1);
    for (const d of DESTINATIONS) store.delivered(store.nextDelivery(d)!, T0 + 1);
    // The same transition again (say, re-evaluated after a restart from an older state).
    expect(store.save(emptyEngineState(), [firing], DESTINATIONS, T0 + 2)).toEqual([]);
    for (const d of DESTINATIONS) expect(store.nextDelivery(d)).toBeNull();
    expect(store.backlog().size).toBe(0);
    // Its resolution is a transition of its own.
    expect(
      store.save(emptyEngineState(), [transition('M001', 'RESOLVED')], DESTINATIONS, T0 + 3),
    ).toHaveLength(1);
    expect(store.nextDelivery(HOOK)?.record.status).toBe('RESOLVED');
    expect(store.history().map((a) => a.status)).toEqual(['RESOLVED', 'FIRING']);
  });

  it('undelivered rows of a destination no longer configured are dropped, the others kept', () => {
    const other = webhookDestination('http://127.0.0.1:9/gone');
    store.save(emptyEngineState(), [transition('M001', 'FIRING')], [...DESTINATIONS, other], T0);
    expect(Object.fromEntries(store.dropUnconfigured(DESTINATIONS))).toEqual({ [other]: 1 });
    expect(store.nextDelivery(other)).toBeNull();
    expect(store.nextDelivery(HOOK)).not.toBeNull();
    expect(store.dropUnconfigured(DESTINATIONS).size).toBe(0);
  });
});

describe('alert store: across a reopen', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'alerts-store-'));
    file = path.join(dir, 'nested', 'alerts.db');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('an undelivered transition survives with its attempts; a delivered one is never pending again', () => {
    let store = AlertStore.open(file);
    store.save(
      emptyEngineState(),
      [transition('M001', 'FIRING'), transition('M002', 'FIRING'), transition('M003', 'FIRING')],
      [HOOK],
      T0,
    );
    store.delivered(store.nextDelivery(HOOK)!, T0 + 10);
    store.failed(store.nextDelivery(HOOK)!, 'connect ECONNREFUSED', T0 + 600);
    const key = idempotencyKey(store.nextDelivery(HOOK)!.record);
    store.close();

    store = AlertStore.open(file);
    try {
      const next = store.nextDelivery(HOOK)!;
      expect(next).toMatchObject({ attempts: 1, nextAttemptAt: T0 + 600, record: { subject: 'M002' } });
      // The same idempotency key as before the restart: a receiver that honours it sees it once.
      expect(idempotencyKey(next.record)).toBe(key);
      expect(key).toBe(`cancellation_spike/M002/${T0}:firing`);
      expect(Object.fromEntries(store.backlog())).toEqual({ [HOOK]: 2 });
      // M001 was delivered: saving it again (a replayed evaluation) sends nothing.
      expect(store.save(emptyEngineState(), [transition('M001', 'FIRING')], [HOOK], T0 + 20)).toEqual([]);
      store.delivered(next, T0 + 700);
      expect(store.nextDelivery(HOOK)?.record.subject).toBe('M003');
    } finally {
      store.close();
    }
  });

  it('restores the engine state it saved: a firing alert is still firing, and not fired again', () => {
    const rules = parseRules(
      `rules:
  - type: cancellation_spike
    window: 1m
    min_count: 5
    ratio: 3
    z_score: 2
    clear_ratio: 1.5
    baseline: { warm_up: 0s }
    for: 0s
    keep_firing_for: 1m
`,
      'test.yaml',
    );
    const engine = new AlertEngine(rules);
    engine.ingestSnapshot('M001', kpis('M001', 1, 0, T0), T0);
    // An hour of quiet, then 30 cancellations.
    for (let t = 10_000; t <= 3_600_000; t += 10_000)
      engine.ingestSnapshot('M001', kpis('M001', 1 + t / 10_000, 0, T0 + t), T0 + t);
    engine.evaluate(T0 + 3_600_000);
    engine.ingestSnapshot('M001', kpis('M001', 400, 30, T0 + 3_605_000), T0 + 3_605_000);
    const fired = engine.evaluate(T0 + 3_605_000);
    expect(fired.map((t) => [t.kind, t.state.subject])).toEqual([['fired', 'M001']]);

    let store = AlertStore.open(file);
    store.save(engine.state(), [], [HOOK], T0 + 3_605_000);
    store.close();
    store = AlertStore.open(file);
    try {
      const saved = store.loadState();
      expect(saved).toEqual(JSON.parse(JSON.stringify(engine.state())));
      const restored = new AlertEngine(rules, saved!);
      expect(restored.active()).toEqual(engine.active());
      expect(restored.active()[0]).toMatchObject({ phase: 'firing', subject: 'M001' });
      expect(restored.evaluate(T0 + 3_606_000)).toEqual([]);
    } finally {
      store.close();
    }
  });

  it('a file of another schema version is refused, naming what to do', () => {
    AlertStore.open(file).close();
    const db = new Database(file);
    db.prepare("UPDATE meta SET value = '99' WHERE key = 'schema_version'").run();
    db.close();
    let error: unknown = null;
    try {
      AlertStore.open(file).close();
    } catch (err) {
      error = err;
    }
    expect(error).toMatchObject({ code: 'STORED_STATE_INVALID' });
    expect((error as Error).message).toMatch(/schema version 99/);
  });

  it('starts empty: no state, no backlog', () => {
    const store = AlertStore.open(file);
    try {
      expect(store.loadState()).toBeNull();
      expect(store.backlog().size).toBe(0);
      expect(store.history()).toEqual([]);
    } finally {
      store.close();
    }
  });
});

function kpis(movie: string, version: number, cancellations: number, ts: number) {
  return {
    movie_id: movie,
    total_bookings: version,
    valid_bookings: version,
    invalid_bookings: 0,
    data_quality_score: 100,
    active_bookings: version,
    cancelled_bookings: cancellations,
    total_tickets: version,
    total_active_revenue_cents: 0,
    total_lost_revenue_cents: 0,
    total_gross_revenue_cents: 0,
    single_bookings: version,
    group_bookings: 0,
    large_group_bookings: 0,
    budget_bookings: 0,
    standard_bookings: version,
    premium_bookings: 0,
    cancellation_rate_percent: null,
    active_rate_percent: null,
    avg_revenue_per_active_booking_cents: null,
    booking_days: 1,
    active_hours: 1,
    new_bookings: version,
    status_changes: cancellations,
    updates: 0,
    deleted_bookings: 0,
    updated_at: ts,
    last_event_ts_ms: ts,
    snapshot_version: version,
  };
}
