import { createPacer } from '../../src/pacer';

/** Drives a pacer in 10 ms steps, producing everything due; returns events per step. */
function drive(rate: number, steps: number, stall?: { at: number; ms: number }): number[] {
  const p = createPacer(rate, 0);
  const out: number[] = [];
  let now = 0;
  for (let i = 0; i < steps; i++) {
    if (stall && i === stall.at) now += stall.ms;
    const n = Math.max(0, p.due(now));
    p.took(n);
    out.push(n);
    now += 10;
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

  it('has no limit without a rate', () => {
    const p = createPacer(null, 0);
    expect(p.due(0)).toBe(Infinity);
  });
});
