import type { BookingChange, EnrichedBookingChange } from '@cdc/core';
import { createDeriver, type Deriver } from '@cdc/enricher';

/**
 * Silver records for tests and benchmarks of the later stages: bronze changes passed through the
 * enricher's own rules (`createDeriver`), exactly as the enricher would write them.
 */
const derivers = new Map<string, Deriver>();
const deriverFor = (timeZone: string): Deriver => {
  let d = derivers.get(timeZone);
  if (!d) derivers.set(timeZone, (d = createDeriver(timeZone)));
  return d;
};

export interface EnrichOptions {
  /** Time zone of the derived date, hour and weekday (default UTC). */
  timeZone?: string;
  /** `enriched_at` (default the change's `ts_ms`, so the result depends on the change only). */
  enrichedAtMs?: number;
}

export function enrich(change: BookingChange, options: EnrichOptions = {}): EnrichedBookingChange {
  return deriverFor(options.timeZone ?? 'UTC').change(change, options.enrichedAtMs ?? change.ts_ms);
}

export function enrichAll(
  changes: readonly BookingChange[],
  options: EnrichOptions = {},
): EnrichedBookingChange[] {
  return changes.map((c) => enrich(c, options));
}
