/**
 * Rate limiting for `--rate`: how many events are due at a given time, counting from the start.
 * A run that falls behind (a slow broker) catches up by at most one second's worth of events,
 * never with an unbounded burst. Pure: time is passed in.
 */
export interface Pacer {
  /** Events that may be produced now (Infinity without a rate). */
  due(nowMs: number): number;
  /** Records that `n` events were produced. */
  took(n: number): void;
  /** How long until the next event is due. */
  waitMs(nowMs: number): number;
}

export function createPacer(ratePerSec: number | null, startMs: number): Pacer {
  if (ratePerSec === null) return { due: () => Infinity, took: () => undefined, waitMs: () => 0 };
  const rate = ratePerSec;
  const burst = Math.max(1, rate);
  let from = startMs;
  let count = 0;
  const owed = (now: number): number => ((now - from) * rate) / 1000 - count;
  return {
    due(now) {
      if (owed(now) > burst) {
        from = now - (burst * 1000) / rate;
        count = 0;
      }
      return Math.floor(owed(now)) + 1;
    },
    took(n) {
      count += n;
    },
    waitMs(now) {
      return Math.max(1, Math.ceil(from + (count * 1000) / rate - now));
    },
  };
}
