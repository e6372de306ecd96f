import { UsageError } from '@cdc/core';
import { createDeriver } from '@cdc/bookings';
import { buildScenario, loadScenario, parseProduceArgs, type ProduceArgs } from '../../src';
import { parseRelative } from '../../src/scenario';

/** Relative and overlay scenarios (the alert scenarios), and --time-scale. */
const NOW = Date.UTC(2025, 8, 10, 12);
const START = Date.UTC(2026, 0, 5, 9);
const M = 60_000;

describe('relative and overlay scenarios', () => {
  it('relative times: signed durations', () => {
    expect(parseRelative('+12m')).toBe(12 * M);
    expect(parseRelative('-2h')).toBe(-2 * 60 * M);
    expect(parseRelative('+500ms')).toBe(500);
    expect(parseRelative('12m')).toBeNull();
    expect(parseRelative('2025-09-03T10:00:00Z')).toBeNull();
  });

  it('cancellation-spike: anchored at the start of the run, repeated steps, run ids in the ids, valid records', () => {
    const s = loadScenario('cancellation-spike');
    expect(s.relative).toBe(true);
    expect(s.overlayMs).toBe(20 * M);
    const events = s.anchor(START, 'r1');
    expect(events).toHaveLength(120);
    const creates = events.filter((e) => e.kind === 'create');
    const cancels = events.filter((e) => e.kind === 'cancel');
    expect(creates).toHaveLength(60);
    expect(cancels).toHaveLength(60);
    expect(creates[0]!.change.ts_ms).toBe(START + 10_000);
    expect(creates[59]!.change.ts_ms).toBe(START + 10_000 + 59 * 10_000);
    expect(cancels[0]!.change.ts_ms).toBe(START + 12 * M);
    expect(cancels[59]!.change.ts_ms).toBe(START + 12 * M + 59_000);
    expect(creates[0]!.change.after).toMatchObject({
      booking_id: 'CS-r1-1',
      customer_id: 'C91',
      movie_id: 'M012',
      booking_date: START + 10_000 - 60 * M,
    });
    expect(cancels[0]!.change.after).toMatchObject({
      booking_id: 'CS-r1-1',
      status: 'CANCELLED',
      version: 2,
    });
    expect(new Set(events.map((e) => e.change.event_id)).size).toBe(120);
    expect(events[0]!.change.event_id).toContain('r1');
    // Another run makes other bookings.
    expect(s.anchor(START, 'r2')[0]!.change.after!.booking_id).toBe('CS-r2-1');
    const deriver = createDeriver('UTC');
    for (const { change } of events) expect(deriver.change(change).after!.validation_errors).toEqual([]);
  });

  it('dirty-burst makes M030 invalid for five minutes, then valid again', () => {
    const deriver = createDeriver('UTC');
    const events = loadScenario('dirty-burst').anchor(START, 'r');
    const invalidAt = (ts: number) =>
      events
        .filter((e) => e.change.ts_ms <= ts && e.change.after!.movie_id === 'M030')
        .reduce((live, e) => {
          live.set(e.change.after!.booking_id, deriver.change(e.change).after!.validation_errors.length > 0);
          return live;
        }, new Map<string, boolean>());
    const count = (m: Map<string, boolean>) => [...m.values()].filter(Boolean).length;
    expect(count(invalidAt(START + 10 * M))).toBe(0);
    expect(count(invalidAt(START + 13 * M))).toBe(120);
    expect(count(invalidAt(START + 18 * M))).toBe(0);
  });

  it('an overlay scenario must use relative times; repeat counts from 1', () => {
    expect(() =>
      buildScenario('x', 'x.json', {
        description: 'x',
        overlay: { duration: '5m' },
        steps: [{ op: 'cancel', at: '2025-09-03T10:00:00Z', booking_id: 'B1' }],
      }),
    ).toThrow(/an overlay scenario gives its times relative to its start/);
  });
});

describe('produce options for overlays and --time-scale', () => {
  const parse = (args: ProduceArgs) => parseProduceArgs(args, NOW);

  it('an overlay scenario runs generated traffic at the default rate for its duration', () => {
    const c = parse({ scenario: 'booking-surge', seed: '7', timeScale: '20' });
    expect(c.source.kind).toBe('scenario');
    expect(c.source.kind === 'scenario' && c.source.generator?.seed).toBe(7);
    expect(c).toMatchObject({ ratePerSec: 50, timeScale: 20, durationMs: 22 * M, count: null });
    expect(parse({ scenario: 'booking-surge', duration: '30m', rate: '100' })).toMatchObject({
      durationMs: 30 * M,
      ratePerSec: 100,
      timeScale: 1,
    });
  });

  it('a fixed scenario takes no generator options; an overlay takes no --count; the scale is bounded', () => {
    expect(() => parse({ scenario: 'seed', seed: '7' })).toThrow(UsageError);
    expect(() => parse({ scenario: 'cancellation-spike', count: '10' })).toThrow(
      /--count cannot be combined with --scenario cancellation-spike \(an overlay scenario runs for its duration\)/,
    );
    expect(() => parse({ timeScale: '0' })).toThrow(/--time-scale/);
    expect(() => parse({ timeScale: '-2' })).toThrow(/--time-scale/);
    expect(() => parse({ timeScale: 'fast' })).toThrow(/--time-scale/);
    expect(parse({ duration: '10m', timeScale: '20' })).toMatchObject({ durationMs: 10 * M, timeScale: 20 });
  });
});
