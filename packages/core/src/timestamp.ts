import { UsageError } from './errors';

/** Parses a point in time given as ISO 8601 or epoch milliseconds; throws UsageError naming `option`. */
export function parseTimestamp(option: string, value: string): number {
  const ms = /^\d+$/.test(value.trim()) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms)) {
    throw new UsageError(
      `${option} must be a time in ISO 8601 (2025-09-03T10:00:00Z) or epoch milliseconds, got '${value}'`,
    );
  }
  return ms;
}
