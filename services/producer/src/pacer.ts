/**
 * Rate limiting for `--rate`: how many events are due at a given time, counting from the start.
 * Events are released a tick at a time: nothing is due until a tick's worth (`rate × tickMs`, at
 * least one event) is owed, then everything owed is. At low rates that is one event at a time,
 * evenly spread; at high rates a batch every `tickMs`, so the producer wakes, encodes and sends
 * about 1000 / tickMs times a second instead of once per millisecond with a handful of events
 * (each wake-up and each produce request costs the same CPU whatever it carries). A run that falls
 * behind (a slow broker) catches up by at most one second's worth of events, never with an
 * unbounded burst. Pure: time is passed in.
 */
export interface Pacer {
  /** Events that may be produced now (Infinity without a rate; 0 until a tick's worth is owed). */
  due(nowMs: number): number;
  /** Records that `n` events were produced. */
  took(n: number): void;
  /** How long until the next tick's events are due. */
  waitMs(nowMs: number): number;
}

export function createPacer(ratePerSec: number | null, startMs: number, tickMs = 0): Pacer {
  if (ratePerSec === null) return { due: () => Infinity, took: () => undefined, waitMs: () => 0 };
  const rate = ratePerSec;
  const burst = Math.max(1, rate);
  /** Events per tick, at least one; due() releases nothing until this many (less one in progress) are owed. */
  const perTick = Math.max(1, Math.floor((rate * tickMs) / 1000));
  let from = startMs;
  let count = 0;
  const owed = (now: number): number => ((now - from) * rate) / 1000 - count;
  return {
    due(now) {
      if (owed(now) > burst) {
        from = now - (burst * 1000) / rate;
        count = 0;
      }
      const o = owed(now);
      return o >= perTick - 1 ? Math.floor(o) + 1 : 0;
    },
    took(n) {
      count += n;
    },
    waitMs(now) {
      return Math.max(1, Math.ceil(from + ((count + perTick - 1) * 1000) / rate - now));
    },
  };
}
