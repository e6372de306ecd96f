import { AbortedError, sleep } from '@cdc/core';
import { Shutdown, type StopTarget } from '@cdc/observe';
import type { CommandContext } from './context';

/**
 * How every long-running command (`enrich`, `aggregate`, `ui`, `produce`, `backfill --execute`,
 * and the ones to come) lives and stops, through observe's Shutdown: the first SIGTERM/Ctrl-C
 * aborts the signal handed to `start` (waits for the broker or registry at start end at once),
 * the service is closed within SHUTDOWN_TIMEOUT_MS, one line says how it ended, and the process
 * exits 0 after a clean stop, 1 when work was abandoned (or the service failed by itself), 130 on
 * a second signal.
 */
export interface LongRunning extends StopTarget {
  /** Resolves if the service stops by itself (a consumer that will not restart), with the reason. */
  readonly stopped?: Promise<Error | null | void>;
}

export async function runUntilStopped(
  ctx: CommandContext,
  start: (signal: AbortSignal, shutdown: Shutdown) => Promise<LongRunning>,
): Promise<void> {
  const shutdown = new Shutdown({ timeoutMs: ctx.shutdownTimeoutMs, logger: ctx.logger });
  let service: LongRunning;
  try {
    // The deadline holds during start-up too: a start stuck in a client call that does not
    // listen to the signal (a producer's transactional init against a hanging broker) does not
    // keep the process alive past SHUTDOWN_TIMEOUT_MS.
    const starting = start(shutdown.signal, shutdown);
    starting.catch(() => undefined); // settles after the deadline: nobody waits for it then
    const started = await Promise.race([
      starting,
      shutdown.requested.then(() => sleep(Math.max(0, shutdown.remainingMs())).then(() => null)),
    ]);
    if (started === null) {
      shutdown.dispose();
      ctx.logger.warn(
        { deadlineMs: ctx.shutdownTimeoutMs },
        'stopped at the deadline while still starting (waiting for the broker or registry); nothing was in flight',
      );
      exitSoon();
      process.exitCode = 0;
      return;
    }
    service = started;
  } catch (err) {
    shutdown.dispose();
    exitSoon();
    if (err instanceof AbortedError || shutdown.stopping) {
      ctx.logger.info('stopped during start-up; nothing was in flight');
      process.exitCode = 0;
      return;
    }
    throw err;
  }
  shutdown.setTarget(service);
  // A holder, not a `let`: it is set in a callback, which narrowing does not see.
  const failure: { err: Error | null } = { err: null };
  const reason = await Promise.race([
    shutdown.requested,
    (service.stopped ?? new Promise<never>(() => undefined)).then((err) => {
      // Stopping on request resolves it too: only a stop nobody asked for is a failure.
      if (!shutdown.stopping) failure.err = err ?? new Error('the service stopped by itself');
      return 'failed';
    }),
  ]);
  const outcome = await shutdown.stop(service, reason);
  exitSoon();
  if (failure.err) throw failure.err;
  process.exitCode = outcome.code;
}

/**
 * Exits shortly after the command returned even if a client library keeps a timer alive (kafkajs
 * retrying a broker that is down): the shutdown deadline is the deadline.
 */
export function exitSoon(ms = 200): void {
  setTimeout(() => process.exit(), ms).unref();
}
