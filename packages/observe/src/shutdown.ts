import { z } from 'zod';
import { CdcError, errorMessage, intSetting, parseEnv, type Env, type Logger } from '@cdc/core';

/**
 * The one way a long-running command stops (SIGTERM, Ctrl-C, or the service failing by itself):
 *
 *  1. the first signal aborts `signal`: the service stops taking work (start-up waits end, the
 *     consumer's restart loop ends, the producer stops generating);
 *  2. `stop(target)` lets the target finish or abandon what is in flight and close, within
 *     `shutdownTimeoutMs` of the request (SHUTDOWN_TIMEOUT_MS, default 10 s);
 *  3. one log line says how it ended: `stopped` (exit 0: nothing was left unfinished, even if a
 *     connection could not be closed politely), or what was abandoned (exit 1). Abandoned work is
 *     never reported as done: an open transaction is aborted by the broker or fenced by the next
 *     instance, records not committed are read again;
 *  4. a second signal exits at once (130), saying what it abandoned.
 *
 * The process then exits even if a client library left a timer behind (kafkajs retrying a
 * broker that does not answer): the deadline is the deadline.
 */
export const shutdownSchema = z.object({
  SHUTDOWN_TIMEOUT_MS: intSetting(500, 600_000)
    .default(10_000)
    .describe('how long a service may take to stop after SIGTERM/Ctrl-C before it exits anyway (ms)'),
});

/** SHUTDOWN_TIMEOUT_MS, validated (ConfigError naming it when bad). */
export function loadShutdownTimeoutMs(env: Env = process.env): number {
  return parseEnv(shutdownSchema, env).SHUTDOWN_TIMEOUT_MS;
}

export const EXIT_CLEAN = 0;
export const EXIT_ABANDONED = 1;
export const EXIT_SECOND_SIGNAL = 130;

/** What a running service gives the shutdown. */
export interface StopTarget {
  /** Stop taking work, finish (or abandon) what is in flight, close every client. */
  close(): Promise<void>;
  /** Work that is not finished now (empty: stopping now loses and redoes nothing). */
  unfinishedWork?(): string[];
}

export interface ShutdownOptions {
  timeoutMs: number;
  logger: Logger;
  /** Which process to listen on and exit (tests pass a fake). */
  proc?: Pick<NodeJS.Process, 'on' | 'off' | 'exit'>;
  signals?: NodeJS.Signals[];
  now?: () => number;
}

export interface StopOutcome {
  code: number;
  durationMs: number;
  abandoned: string[];
  /** True when the close did not finish within the deadline. */
  timedOut: boolean;
}

export class Shutdown {
  private readonly controller = new AbortController();
  private readonly log: Logger;
  private readonly proc: Pick<NodeJS.Process, 'on' | 'off' | 'exit'>;
  private readonly signals: NodeJS.Signals[];
  private readonly now: () => number;
  private requestedAt: number | null = null;
  private reasonText = '';
  private resolveRequested: (reason: string) => void = () => undefined;
  private target: StopTarget | null = null;
  /** Resolves with the reason once a stop is requested. */
  readonly requested: Promise<string>;

  constructor(private readonly o: ShutdownOptions) {
    this.log = o.logger.child({ component: 'shutdown' });
    this.proc = o.proc ?? process;
    this.signals = o.signals ?? ['SIGINT', 'SIGTERM'];
    this.now = o.now ?? Date.now;
    this.requested = new Promise<string>((resolve) => (this.resolveRequested = resolve));
    for (const s of this.signals) this.proc.on(s, this.onSignal);
  }

  /** Aborted once a stop is requested. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get stopping(): boolean {
    return this.requestedAt !== null;
  }

  get timeoutMs(): number {
    return this.o.timeoutMs;
  }

  /** Milliseconds left before the deadline (the full timeout before any request). */
  remainingMs(): number {
    return this.requestedAt === null ? this.o.timeoutMs : this.requestedAt + this.o.timeoutMs - this.now();
  }

  /** The service whose unfinished work a second signal reports. */
  setTarget(target: StopTarget): void {
    this.target = target;
  }

  /** Requests the stop (idempotent): aborts `signal`. */
  request(reason: string): void {
    if (this.requestedAt !== null) return;
    this.requestedAt = this.now();
    this.reasonText = reason;
    this.controller.abort(new CdcError('INTERRUPTED', `interrupted by ${reason}`));
    this.resolveRequested(reason);
  }

  private readonly onSignal = (signal: NodeJS.Signals): void => {
    if (this.requestedAt === null) {
      this.log.info({ signal, deadlineMs: this.o.timeoutMs }, `${signal}: stopping (again to exit at once)`);
      this.request(signal);
      return;
    }
    const abandoned = this.unfinished();
    this.log.warn(
      { signal, abandoned },
      abandoned.length
        ? `${signal} again: exiting now; abandoned: ${abandoned.join('; ')}`
        : `${signal} again: exiting now`,
    );
    this.proc.exit(EXIT_SECOND_SIGNAL);
  };

  private unfinished(): string[] {
    try {
      return this.target?.unfinishedWork?.() ?? [];
    } catch (err) {
      return [`(could not tell: ${errorMessage(err)})`];
    }
  }

  /**
   * Closes `target` within the deadline (counted from the request; a stop not requested yet is
   * requested now), logs how it ended and returns the outcome. Never throws.
   */
  async stop(target: StopTarget, reason = 'stop'): Promise<StopOutcome> {
    this.request(reason);
    this.setTarget(target);
    const started = this.requestedAt ?? this.now();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), Math.max(0, this.remainingMs()));
    });
    let closeError: unknown = null;
    const closed = target.close().then(
      () => 'closed' as const,
      (err: unknown) => {
        closeError = err;
        return 'closed' as const;
      },
    );
    const result = await Promise.race([closed, deadline]);
    clearTimeout(timer);
    for (const s of this.signals) this.proc.off(s, this.onSignal);
    const durationMs = this.now() - started;
    const abandoned = this.unfinished();
    const timedOut = result === 'timeout';
    const code = abandoned.length > 0 ? EXIT_ABANDONED : EXIT_CLEAN;
    const fields = { reason: this.reasonText, durationMs, deadlineMs: this.o.timeoutMs };
    if (abandoned.length > 0) {
      this.log.warn(
        { ...fields, abandoned },
        `${timedOut ? 'stopped at the deadline' : 'stopped'} with work abandoned: ${abandoned.join('; ')}`,
      );
    } else if (timedOut) {
      this.log.warn(
        fields,
        'stopped at the deadline without finishing to close its connections (nothing was in flight)',
      );
    } else if (closeError) {
      this.log.warn({ ...fields, err: closeError }, 'stopped; closing reported an error');
    } else {
      this.log.info(fields, 'stopped');
    }
    return { code, durationMs, abandoned, timedOut };
  }

  /** Removes the signal handlers (for a command that ends by itself). */
  dispose(): void {
    for (const s of this.signals) this.proc.off(s, this.onSignal);
  }
}
