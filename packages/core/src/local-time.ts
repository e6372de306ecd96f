import { CdcError } from './errors';

/**
 * Calendar fields of an instant in an IANA time zone. Intl is slow (microseconds per call), so
 * the zone's UTC offset is computed once per 15-minute bucket (every real zone changes its offset
 * on a 15-minute boundary) and the fields are then plain arithmetic.
 */
export interface LocalTime {
  dateOnly: string;
  hour: number;
  dayOfWeek: number;
}

const BUCKET_MS = 15 * 60 * 1000;
const MAX_CACHED_BUCKETS = 200_000;

export function assertTimeZone(timeZone: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    throw new CdcError(
      'CONFIG_INVALID',
      `unknown time zone '${timeZone}' (use an IANA name such as UTC or Europe/Berlin)`,
    );
  }
}

/** The zone's offset from UTC (local − UTC, in ms) at an instant; cached per 15-minute bucket. */
export function createOffsetLookup(timeZone: string): (epochMs: number) => number {
  assertTimeZone(timeZone);
  if (timeZone === 'UTC' || timeZone === 'Etc/UTC') return () => 0;
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
  const offsets = new Map<number, number>();
  return (epochMs) => {
    const bucket = Math.floor(epochMs / BUCKET_MS);
    let offset = offsets.get(bucket);
    if (offset === undefined) {
      const at = bucket * BUCKET_MS;
      const p: Record<string, number> = {};
      for (const part of format.formatToParts(at))
        if (part.type !== 'literal') p[part.type] = Number(part.value);
      offset = Date.UTC(p.year!, p.month! - 1, p.day, p.hour, p.minute, p.second) - at;
      if (offsets.size >= MAX_CACHED_BUCKETS) offsets.clear();
      offsets.set(bucket, offset);
    }
    return offset;
  };
}

/** Calendar fields (date, hour, day of week) of instants in one zone. Throws a CdcError CONFIG_INVALID for an unknown zone. */
export function createLocalTime(timeZone: string): (epochMs: number) => LocalTime {
  const offsetAt = createOffsetLookup(timeZone);
  return (epochMs) => {
    const d = new Date(epochMs + offsetAt(epochMs));
    const y = d.getUTCFullYear();
    const m = d.getUTCMonth() + 1;
    const day = d.getUTCDate();
    return {
      dateOnly: `${String(y).padStart(4, '0')}-${m < 10 ? '0' : ''}${m}-${day < 10 ? '0' : ''}${day}`,
      hour: d.getUTCHours(),
      dayOfWeek: d.getUTCDay(),
    };
  };
}
