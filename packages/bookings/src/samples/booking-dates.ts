import { createOffsetLookup } from '@cdc/core';
import { cumulative, type Random } from './random';

/**
 * Booking dates follow a daily curve in a time zone: few bookings at night, a morning rise and
 * an evening peak, in local time (core's cached offset lookup).
 */
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** Relative share of bookings per local hour, 0..23. */
export const DAILY_CURVE: readonly number[] = [
  1.2, 0.6, 0.3, 0.2, 0.2, 0.3, 0.7, 1.4, 2.4, 3.4, 4.4, 5.4, 6.4, 6.4, 6.2, 6.8, 8, 9.4, 10, 9.6, 8.2, 6.2,
  4, 2.2,
];

export interface BookingDateSampler {
  /** A booking date in [fromMs, toMs] whose local hour follows DAILY_CURVE (uniform when the range is too short). */
  sample(fromMs: number, toMs: number): number;
  /** The local hour (0..23) of an instant in the sampler's zone. */
  localHour(epochMs: number): number;
}

export function createBookingDateSampler(timeZone: string, random: Random): BookingDateSampler {
  const offsetAt = createOffsetLookup(timeZone);
  const hours = cumulative(DAILY_CURVE);
  const localHour = (ms: number): number => {
    const local = ms + offsetAt(ms);
    return Math.floor((((local % DAY_MS) + DAY_MS) % DAY_MS) / HOUR_MS);
  };
  return {
    localHour,
    sample(fromMs, toMs) {
      if (toMs <= fromMs) return fromMs;
      // Pick a day in the range, then an hour from the curve; retry when the result falls
      // outside the range (the edges of the first and last day), else fall back to uniform.
      for (let attempt = 0; attempt < 4; attempt++) {
        const anchor = fromMs + Math.floor(random.float() * (toMs - fromMs));
        const anchorLocal = anchor + offsetAt(anchor);
        const dayStartLocal = Math.floor(anchorLocal / DAY_MS) * DAY_MS;
        const local = dayStartLocal + random.pick(hours) * HOUR_MS + Math.floor(random.float() * HOUR_MS);
        const guess = local - offsetAt(anchor);
        const utc = local - offsetAt(guess);
        if (utc >= fromMs && utc <= toMs) return utc;
      }
      return fromMs + Math.floor(random.float() * (toMs - fromMs));
    },
  };
}
