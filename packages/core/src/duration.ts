import { z } from 'zod';

/**
 * The one way durations are written, on the command line, in environment variables, in rules
 * and scenario files: a number and a unit, `500ms`, `30s`, `5m`, `1.5h`, `1d` (no sign, no
 * spaces). Pure.
 */
const UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/** Examples for messages: "a duration such as 500ms, 30s, 5m, 1.5h or 1d". */
export const DURATION_EXAMPLES = '500ms, 30s, 5m, 1.5h or 1d';

/** Milliseconds (rounded), or null when `text` is not a duration (a negative one is not). */
export function parseDuration(text: string): number | null {
  const m = DURATION.exec(text.trim());
  if (!m) return null;
  const ms = Math.round(Number(m[1]) * UNITS_MS[m[2]!]!);
  return Number.isSafeInteger(ms) ? ms : null;
}

export interface DurationBounds {
  minMs?: number;
  maxMs?: number;
  /**
   * The unit a bare number is read in, for options that took bare numbers before durations had
   * units (`--interval 2` = 2 s). Omitted: a bare number is refused (the unit is ambiguous).
   */
  bareUnit?: 'ms' | 's';
}

/** Parses a duration within bounds; a message saying what is wrong otherwise (without the value). */
export function checkDuration(text: string, bounds: DurationBounds = {}): number | string {
  const t = text.trim();
  const ms =
    bounds.bareUnit && /^\d+(\.\d+)?$/.test(t) ? parseDuration(t + bounds.bareUnit) : parseDuration(t);
  if (ms === null) return `must be a duration such as ${DURATION_EXAMPLES}`;
  if (bounds.minMs !== undefined && ms < bounds.minMs)
    return `must be at least ${formatDuration(bounds.minMs)}`;
  if (bounds.maxMs !== undefined && ms > bounds.maxMs)
    return `must be at most ${formatDuration(bounds.maxMs)}`;
  return ms;
}

/** 90000 -> '1m30s'; 250 -> '250ms'; 0 -> '0ms'. For messages, help and summaries. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const parts: string[] = [];
  let rest = Math.round(ms / 1000);
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join('') || '0s';
}

/** A duration setting (environment variable or option), in milliseconds after parsing. */
export const durationSetting = (bounds: DurationBounds = {}) =>
  z.string().transform((s, ctx) => {
    const r = checkDuration(s, bounds);
    if (typeof r === 'string') {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: r });
      return z.NEVER;
    }
    return r;
  });
