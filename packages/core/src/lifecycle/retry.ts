import { CdcError } from '../errors';
import { outageOf, type OutageTracker } from './outage';

/**
 * Waiting out an outage: `fn` is retried with capped exponential backoff while it fails with an
 * outage error (outage.ts says which), until it works, the signal aborts (the process is
 * stopping) or the outage outlasts `maxOutageMs`. Any other error is thrown at once.
 *
 * Why not a retry library (p-retry, exponential-backoff): the wait between attempts must end the
 * moment the process is asked to stop (p-retry can, but is ESM-only and this code base is
 * CommonJS; exponential-backoff's delay cannot be interrupted), and every attempt must go
 * through the one outage tracker. What is left is the loop below.
 */
export interface RetryOptions {
  outages: OutageTracker;
  /** What is being attempted, for the logs ("registering the gold schema"). */
  what: string;
  /** Aborted when the process stops: the wait ends and the call rejects with AbortedError. */
  signal?: AbortSignal;
  initialMs?: number;
  maxMs?: number;
  /** Give up once the outage has lasted this long (default: never). */
  maxOutageMs?: number;
}

export class AbortedError extends CdcError {
  constructor(what: string) {
    super('INTERRUPTED', `stopped while ${what}`);
  }
}

/** Exponential backoff with jitter: initial, 2x, 4x … capped at max, each ±20 %. */
export function backoffDelayMs(
  attempt: number,
  initialMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const base = Math.min(maxMs, initialMs * 2 ** Math.max(0, attempt - 1));
  return Math.max(1, Math.round(base * (0.8 + 0.4 * random())));
}

/** Sleeps `ms`, or until `signal` aborts (then resolves false). */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise<boolean>((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export async function retryWhileOutage<T>(fn: () => Promise<T>, o: RetryOptions): Promise<T> {
  const initialMs = o.initialMs ?? 200;
  const maxMs = o.maxMs ?? 2000;
  const failedOn = new Set<ReturnType<typeof outageOf>>();
  for (let attempt = 1; ; attempt++) {
    if (o.signal?.aborted) throw new AbortedError(o.what);
    try {
      const value = await fn();
      for (const dependency of failedOn) if (dependency) o.outages.recovered(dependency);
      return value;
    } catch (err) {
      if (o.signal?.aborted) throw new AbortedError(o.what);
      const dependency = outageOf(err);
      if (dependency === null) throw err;
      failedOn.add(dependency);
      o.outages.failed(dependency, err, o.what);
      if (o.maxOutageMs !== undefined && o.outages.durationMs(dependency) >= o.maxOutageMs) throw err;
      if (!(await abortableSleep(backoffDelayMs(attempt, initialMs, maxMs), o.signal))) {
        throw new AbortedError(o.what);
      }
    }
  }
}
