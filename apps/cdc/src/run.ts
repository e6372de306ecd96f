import { InvalidArgumentError } from 'commander';
import { CdcError, checkDuration, errorMessage, kafkaAccessError, type DurationBounds } from '@cdc/core';

/**
 * Exit codes, by the error's kind: 0 success, 2 bad usage or configuration (CONFIG_INVALID, a
 * taken port among them; USAGE), 1 any other failure (or work abandoned on stop).
 */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** Runs a command body; prints a clear one-paragraph error (no stack trace) and sets the exit code. */
export async function run(body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (caught) {
    // Kafka refusing this client (credentials, certificate, ACL) is a configuration to fix.
    const err = kafkaAccessError(caught) ?? caught;
    const usage = err instanceof CdcError && (err.code === 'USAGE' || err.code === 'CONFIG_INVALID');
    const prefix = err instanceof CdcError ? `error [${err.code}]` : 'error';
    process.stderr.write(`${prefix}: ${errorMessage(err)}\n`);
    if (process.env.CDC_DEBUG && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    process.exitCode = usage ? EXIT_USAGE : EXIT_FAILURE;
  }
}

/** Parses a whole-number option within bounds, or throws a usage error naming the option. */
export function intOption(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}, got '${value}'`);
    }
    return n;
  };
}

/**
 * Parses a duration option (core's durations: 500ms, 30s, 5m, 1.5h, 1d) into milliseconds, or
 * throws a usage error naming the option. Every time option of every command goes through here.
 */
export function durationOption(name: string, bounds: DurationBounds = {}) {
  return (value: string): number => {
    const r = checkDuration(value, bounds);
    if (typeof r === 'string') throw new InvalidArgumentError(`${name} ${r}, got '${value}'`);
    return r;
  };
}
