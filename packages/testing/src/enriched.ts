import type { Booking, BookingChange, EnrichedBooking, EnrichedBookingChange } from '@cdc/core';
import { createDeriver, type Deriver } from '@cdc/bookings';

/**
 * Silver records for tests and benchmarks of the later stages: bronze changes passed through the
 * enricher's own rules (`createDeriver`), exactly as the enricher would write them.
 */
const derivers = new Map<string, Deriver>();
const deriverFor = (timeZone: string, epoch: number): Deriver => {
  const key = `${timeZone}#${epoch}`;
  let d = derivers.get(key);
  if (!d) derivers.set(key, (d = createDeriver(timeZone, { epoch })));
  return d;
};

export interface EnrichOptions {
  /** Time zone of the derived date, hour and weekday (default UTC). */
  timeZone?: string;
  /** The derivation epoch stamped on the record (default 0). */
  epoch?: number;
  /** `enriched_at` (default the change's `ts_ms`, so the result depends on the change only). */
  enrichedAtMs?: number;
}

export function enrich(change: BookingChange, options: EnrichOptions = {}): EnrichedBookingChange {
  return deriverFor(options.timeZone ?? 'UTC', options.epoch ?? 0).change(
    change,
    options.enrichedAtMs ?? change.ts_ms,
  );
}

export function enrichAll(
  changes: readonly BookingChange[],
  options: EnrichOptions = {},
): EnrichedBookingChange[] {
  return changes.map((c) => enrich(c, options));
}

/** One booking image with the derived fields, as of a change at `changeTsMs`. */
export function enrichImage(
  booking: Booking,
  changeTsMs: number,
  options: Pick<EnrichOptions, 'timeZone'> = {},
): EnrichedBooking {
  return deriverFor(options.timeZone ?? 'UTC', 0).image(booking, changeTsMs);
}
