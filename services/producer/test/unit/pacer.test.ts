import { createPacer } from '../../src/pacer';

/** Drives a pacer in 10 ms steps (or `stepMs`), producing everything due; returns events per step. */
function drive(
  rate: number,
  steps: number,
  stall?: { at: number; ms: number },
  tickMs = 0,
  stepMs = 10,
): number[] {
  const p = createPacer(rate, 0, tickMs);
  const out: number[] = [];
  let now = 0;
  for (let i = 0; i < steps; i++) {
    if (stall && i === stall.at) now += stall.ms;
    const n = Math.max(0, p.due(now));
    p.took(n);
    out.push(n);
    now += stepMs;
  }
  return out;
}

describe('the pacer', () => {
  it('produces at the rate', () => {
    const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
    // 1000 steps of 10 ms: the last at 9.99 s, when rate x 9.99 s events (+ the one at 0) are due.
    expect(sum(drive(1000, 1000))).toBe(9991);
    expect(sum(drive(50, 1000))).toBe(500);
    expect(sum(drive(0.5, 1000))).toBe(5);
  });

  it('spreads events evenly at low rates and says how long to wait', () => {
    const p = createPacer(10, 0);
    expect(p.due(0)).toBe(1);
    p.took(1);
    expect(p.due(50)).toBe(0);
    expect(p.waitMs(50)).toBe(50);
    expect(p.due(100)).toBe(1);
  });

  it('catches up at most one second after a stall', () => {
    const steps = drive(100, 200, { at: 100, ms: 10_000 });
    expect(steps[100]).toBeLessThanOrEqual(101);
    expect(steps.slice(101).every((n) => n <= 2)).toBe(true);
  });

  it('releases a tick at a time: nothing until a tick is owed, then everything owed', () => {
    // 5,000/s with 20 ms ticks, looked at every millisecond: a batch of ~100 every 20 ms.
    const steps = drive(5000, 1000, undefined, 20, 1);
    const batches = steps.filter((n) => n > 0);
    expect(batches.length).toBeGreaterThanOrEqual(49);
    expect(batches.length).toBeLessThanOrEqual(51);
    expect(batches.slice(1).every((n) => n >= 99 && n <= 101)).toBe(true);
    // By 999 ms: 49 ticks of ~100 (the rest is due with the tick at 1 s).
    expect(steps.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(4900);
    // The wait says when the next tick is due.
    const p = createPacer(5000, 0, 20);
    expect(p.due(0)).toBe(0);
    expect(p.waitMs(10)).toBe(10);
    expect(p.due(20)).toBe(101);
    p.took(101);
    expect(p.due(30)).toBe(0);
    expect(p.waitMs(30)).toBe(10);
  });

  it('keeps one event at a time when a tick holds less than one', () => {
    const p = createPacer(10, 0, 20);
    expect(p.due(0)).toBe(1);
    p.took(1);
    expect(p.due(50)).toBe(0);
    expect(p.waitMs(50)).toBe(50);
    expect(p.due(100)).toBe(1);
  });

  it('has no limit without a rate', () => {
    const p = createPacer(null, 0);
    expect(p.due(0)).toBe(Infinity);
  });
});
