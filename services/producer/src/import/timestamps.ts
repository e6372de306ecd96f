import { createOffsetLookup } from '@cdc/core';

/**
 * Timestamps of an export to epoch milliseconds (UTC). Accepted:
 *  - ISO 8601: `2025-09-03T10:00:00Z`, `2025-09-03T12:00:00.123+02:00`, `2025-09-03T10:00`;
 *  - the `raw_movie_bookings` export's `2025-09-03 10:00:00` (optionally `.fff` and a zone:
 *    `2025-09-03 10:00:00.000 +0000`, as Snowflake writes TIMESTAMP_TZ);
 *  - a date alone, `2025-09-03` (midnight).
 * A value without a zone is a wall-clock time in `timeZone` (the `--time-zone` option, default
 * UTC). A wall-clock time that does not exist there (skipped by a daylight-saving change) is
 * refused; one that exists twice (the hour repeated when clocks go back) is the earlier instant,
 * as java.time and PostgreSQL resolve it. Fractions beyond milliseconds are cut.
 */
export type TimestampResult = { ok: true; ms: number } | { ok: false; reason: string };
export type TimestampParser = (text: string) => TimestampResult;

const PATTERN =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)? ?(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;
const DAY_MS = 86_400_000;

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const daysInMonth = (y: number, m: number): number =>
  m === 2 && y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : DAYS[m - 1]!;

function zoneOffsetMs(zone: string): number {
  if (zone === 'Z' || zone === 'z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
  return sign * (hours * 60 + minutes) * 60_000;
}

export function createTimestampParser(timeZone = 'UTC'): TimestampParser {
  const offsetAt = createOffsetLookup(timeZone);
  /** The UTC instant of a wall-clock time in the zone, or null in a daylight-saving gap. */
  const fromLocal = (local: number): number | null => {
    const earlier = offsetAt(local - DAY_MS);
    const later = offsetAt(local + DAY_MS);
    // No change of offset within a day either side (nearly always): one candidate, no arrays.
    if (earlier === later)
      return local - earlier + offsetAt(local - earlier) === local ? local - earlier : null;
    const candidates = [local - earlier, local - later];
    const valid = candidates.filter((u) => u + offsetAt(u) === local);
    return valid.length === 0 ? null : Math.min(...valid);
  };
  // Exports repeat timestamps (created_at = updated_at, rows of one batch): remember the last one.
  let lastText = '';
  let lastResult: TimestampResult = { ok: false, reason: '' };
  const parse = (text: string): TimestampResult => {
    const s = text.trim();
    const m = PATTERN.exec(s);
    if (m === null) {
      return {
        ok: false,
        reason: `'${text}' is not a timestamp (use ISO 8601 such as 2025-09-03T10:00:00Z, or 2025-09-03 10:00:00)`,
      };
    }
    const [, y, mo, d, h = '0', mi = '0', sec = '0', frac = '', zone] = m;
    const year = Number(y);
    const month = Number(mo);
    const day = Number(d);
    const hour = Number(h);
    const minute = Number(mi);
    const second = Number(sec);
    if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
      return { ok: false, reason: `'${text}' is not a valid date` };
    }
    if (hour > 23 || minute > 59 || second > 59)
      return { ok: false, reason: `'${text}' is not a valid time` };
    if (zone !== undefined && !/^[+-](?:0\d|1[0-4])(?::?[0-5]\d)?$|^[Zz]$/.test(zone)) {
      return { ok: false, reason: `'${text}' has an invalid zone offset` };
    }
    const ms = Number(frac.slice(0, 3).padEnd(3, '0'));
    const local = Date.UTC(year, month - 1, day, hour, minute, second, ms);
    if (zone !== undefined) return { ok: true, ms: local - zoneOffsetMs(zone) };
    const utc = fromLocal(local);
    if (utc === null) {
      return { ok: false, reason: `'${text}' does not exist in ${timeZone} (clocks skipped it)` };
    }
    return { ok: true, ms: utc };
  };
  return (text) => {
    if (text !== lastText) {
      lastResult = parse(text);
      lastText = text;
    }
    return lastResult;
  };
}
