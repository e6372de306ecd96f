import retry from 'retry';
import { errorMessage, type Alert, type Logger } from '@cdc/core';
import type { AlertStore, PendingDelivery } from './store';

/**
 * Delivers the outbox: one loop per destination (the alerts topic, each webhook), each taking
 * that destination's oldest undelivered transition, so a destination sees transitions in order.
 * A failed attempt is retried with capped exponential backoff and jitter (the schedule is the
 * `retry` package's; the attempt count lives in the outbox, so it survives a restart) — never
 * given up while the service runs. The first failure of an outage is logged once as a warning,
 * the recovery once as info; the retries in between at debug.
 */
export interface Destination {
  name: string;
  deliver(alert: Alert, signal: AbortSignal): Promise<void>;
}

export interface DispatcherOptions {
  store: AlertStore;
  destinations: Destination[];
  retryMinMs: number;
  retryMaxMs: number;
  logger: Logger;
  onDelivered?: (destination: string, alert: Alert, attempts: number) => void;
  onFailed?: (destination: string, error: string) => void;
  now?: () => number;
}

export interface Dispatcher {
  /** Wakes the loops: new transitions were saved. */
  notify(): void;
  stop(): Promise<void>;
}

/**
 * The wait before the next attempt after `failedAttempts` failed ones (0 after the first failure):
 * `minMs × 2^failedAttempts`, times a random factor in [1, 2) so destinations recovering from one
 * outage are not hit in step, capped at `maxMs`.
 */
export function retryDelayMs(failedAttempts: number, minMs: number, maxMs: number): number {
  return retry.createTimeout(failedAttempts, {
    factor: 2,
    minTimeout: minMs,
    maxTimeout: maxMs,
    randomize: true,
  });
}

/** How long an empty outbox is left unread when nothing notifies. */
const IDLE_RECHECK_MS = 60_000;

export function startDispatcher(o: DispatcherOptions): Dispatcher {
  const now = o.now ?? Date.now;
  const stop = new AbortController();
  const wakers = new Set<() => void>();

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        wakers.delete(done);
        stop.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      wakers.add(done);
      stop.signal.addEventListener('abort', done, { once: true });
    });

  const backoff = (attempts: number): number => retryDelayMs(attempts, o.retryMinMs, o.retryMaxMs);

  async function loop(d: Destination): Promise<void> {
    let failingSince: number | null = null;
    let failures = 0;
    while (!stop.signal.aborted) {
      let next: PendingDelivery | null;
      try {
        next = o.store.nextDelivery(d.name);
      } catch (err) {
        o.logger.error({ err, destination: d.name }, 'cannot read the outbox');
        await sleep(o.retryMaxMs);
        continue;
      }
      if (next === null) {
        // Woken by notify(): this process is the outbox's only writer and notifies after each
        // save. The timer is a safety net only (an idle service has nothing to poll for).
        await sleep(IDLE_RECHECK_MS);
        continue;
      }
      const wait = next.nextAttemptAt - now();
      if (wait > 0) {
        await sleep(wait);
        continue;
      }
      try {
        await d.deliver(next.record, stop.signal);
        o.store.delivered(next, now());
        o.onDelivered?.(d.name, next.record, next.attempts + 1);
        if (failingSince !== null) {
          o.logger.info(
            { destination: d.name, failedAttempts: failures, outageMs: now() - failingSince },
            'notifications delivered again',
          );
          failingSince = null;
          failures = 0;
        }
      } catch (err) {
        if (stop.signal.aborted) break;
        const message = errorMessage(err);
        const delay = backoff(next.attempts);
        o.store.failed(next, message, now() + delay);
        o.onFailed?.(d.name, message);
        failures += 1;
        if (failingSince === null) {
          failingSince = now();
          o.logger.warn(
            { destination: d.name, alert: next.record.alert_id, err: message },
            'cannot deliver a notification; retrying with backoff until it is delivered',
          );
        } else {
          o.logger.debug({ destination: d.name, err: message, retryInMs: delay }, 'delivery failed again');
        }
      }
    }
  }

  const loops = o.destinations.map((d) => loop(d));
  return {
    notify() {
      for (const wake of [...wakers]) wake();
    },
    async stop() {
      stop.abort();
      await Promise.all(loops);
    },
  };
}
