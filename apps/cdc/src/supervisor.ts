import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Logger } from '@cdc/core';
import { EXIT_USAGE } from './run';

/**
 * Runs the pipeline's services as child processes of `cdc start`: one process per service (each
 * gets its own core and its own crash domain), each line of their output handed to `onLine`
 * (start-console.ts shows or files it), a crashed child restarted with exponential backoff, and
 * all of them stopped when the supervisor is asked to stop.
 *
 * - The children run in process groups of their own: a Ctrl-C in the terminal reaches only
 *   `cdc start`, which stops them once (SIGTERM). Sharing the terminal's group, each child would
 *   get the Ctrl-C and then the SIGTERM, take the second as "again: exit at once" and abandon
 *   the graceful stop.
 *
 * - A child that exits with code 2 (bad configuration, a taken port) is not restarted: it would
 *   fail the same way forever. The supervisor reports it through `onGiveUp` with the child's
 *   error line, and `cdc start` stops the pipeline with that message.
 * - Stopping: SIGTERM to every child, whose own shutdown deadline (SHUTDOWN_TIMEOUT_MS, set a
 *   little shorter than the supervisor's) ends it; a child still alive at the supervisor's
 *   deadline is SIGKILLed, so `stop()` always resolves within `stopTimeoutMs` and leaves no child
 *   behind. `kill()` (a second Ctrl-C) SIGKILLs them at once. Pending restarts are cancelled.
 */
export interface ChildSpec {
  name: string;
  args: string[];
  /** Environment of this child over the supervisor's. */
  env?: Record<string, string>;
}

const CDC_BIN = path.resolve(__dirname, '../../../bin/cdc.js');
const MAX_BACKOFF_MS = 30_000;

export interface Supervisor {
  /** SIGTERM, then SIGKILL at the deadline; resolves when every child has exited. */
  stop(): Promise<void>;
  /** SIGKILL every child now. */
  kill(): void;
  /** Children still running. */
  running(): number;
}

export interface SupervisorOptions {
  env: NodeJS.ProcessEnv;
  logger: Logger;
  /** The whole stop (children's shutdown included) must end within this. */
  stopTimeoutMs: number;
  /** A child exited in a way a restart cannot fix (exit code 2), with its last error line. */
  onGiveUp(child: string, code: number, message: string): void;
  /** Each line a child writes (stdout or stderr). */
  onLine(child: string, line: string): void;
  /** A child was started (`restart` false) or restarted after it exited. */
  onLaunch?(child: string, restart: boolean): void;
}

/** What to do when a child exits on its own (pure, unit-tested). */
export function exitDecision(
  code: number | null,
  uptimeMs: number,
  attempt: number,
): { action: 'give-up' } | { action: 'restart'; attempt: number; delayMs: number } {
  if (code === EXIT_USAGE) return { action: 'give-up' };
  const next = uptimeMs > 60_000 ? 0 : attempt + 1;
  return { action: 'restart', attempt: next, delayMs: Math.min(MAX_BACKOFF_MS, 1000 * 2 ** next) };
}

/** The children get this deadline, so they finish before the supervisor would SIGKILL them. */
export const childShutdownTimeoutMs = (stopTimeoutMs: number): number =>
  Math.max(500, stopTimeoutMs - Math.min(2000, Math.round(stopTimeoutMs / 5)));

export function superviseChildren(specs: ChildSpec[], o: SupervisorOptions): Supervisor {
  const running = new Map<string, ChildProcess>();
  const launched = new Set<string>();
  const timers = new Set<NodeJS.Timeout>();
  let stopping = false;
  const env = { ...o.env, SHUTDOWN_TIMEOUT_MS: String(childShutdownTimeoutMs(o.stopTimeoutMs)) };

  const launch = (spec: ChildSpec, attempt: number) => {
    const child = spawn(process.execPath, [CDC_BIN, ...spec.args], {
      env: { ...env, ...spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    running.set(spec.name, child);
    o.onLaunch?.(spec.name, launched.has(spec.name));
    launched.add(spec.name);
    const startedAt = Date.now();
    let lastError = '';
    const show = (line: string) => {
      if (!line.trim()) return;
      if (/^error( \[[A-Z_]+\])?:/.test(line)) lastError = line;
      o.onLine(spec.name, line);
    };
    createInterface({ input: child.stdout }).on('line', show);
    createInterface({ input: child.stderr }).on('line', show);
    child.on('exit', (code, signal) => {
      running.delete(spec.name);
      if (stopping) return;
      const d = exitDecision(code, Date.now() - startedAt, attempt);
      if (d.action === 'give-up') {
        o.logger.error(
          { child: spec.name, code },
          `${spec.name} exited with code ${code}; not restarting it`,
        );
        o.onGiveUp(spec.name, code ?? EXIT_USAGE, lastError || `${spec.name} exited with code ${code}`);
        return;
      }
      o.logger.warn(
        { child: spec.name, code, signal, restartInMs: d.delayMs },
        `${spec.name} exited; restarting`,
      );
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (!stopping) launch(spec, d.attempt);
      }, d.delayMs);
      timers.add(timer);
    });
  };
  for (const spec of specs) launch(spec, 0);

  const cancelRestarts = (): void => {
    stopping = true;
    for (const t of timers) clearTimeout(t);
    timers.clear();
  };

  return {
    running: () => running.size,
    kill() {
      cancelRestarts();
      for (const child of running.values()) child.kill('SIGKILL');
    },
    async stop() {
      cancelRestarts();
      const deadline = Date.now() + Math.max(0, o.stopTimeoutMs - 250);
      await Promise.all(
        [...running.values()].map(
          (child) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null || child.signalCode !== null) return resolve();
              const timer = setTimeout(() => child.kill('SIGKILL'), Math.max(0, deadline - Date.now()));
              child.once('exit', () => {
                clearTimeout(timer);
                resolve();
              });
              child.kill('SIGTERM');
            }),
        ),
      );
    },
  };
}
