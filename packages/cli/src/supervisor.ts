import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { prettyFactory } from 'pino-pretty';
import type { Logger } from '@cdc/core';

/**
 * Runs the pipeline's services as child processes of `cdc start`: one process per service (each
 * gets its own core and its own crash domain), their JSON logs shown readably with the service
 * name, a crashed child restarted with exponential backoff, and all of them stopped (SIGTERM,
 * then SIGKILL after a grace period) when the supervisor is asked to stop.
 */
export interface ChildSpec {
  name: string;
  args: string[];
}

const CDC_BIN = path.resolve(__dirname, '../../../bin/cdc.js');
const MAX_BACKOFF_MS = 30_000;
const STOP_GRACE_MS = 15_000;

export interface Supervisor {
  stop(): Promise<void>;
}

export function superviseChildren(specs: ChildSpec[], env: NodeJS.ProcessEnv, logger: Logger): Supervisor {
  const pretty = prettyFactory({
    colorize: process.stdout.isTTY,
    ignore: 'pid,hostname,service',
    translateTime: 'HH:MM:ss.l',
  });
  const running = new Map<string, ChildProcess>();
  let stopping = false;

  const launch = (spec: ChildSpec, attempt: number) => {
    const child = spawn(process.execPath, [CDC_BIN, ...spec.args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.set(spec.name, child);
    const startedAt = Date.now();
    const show = (line: string) => {
      if (!line.trim()) return;
      const out = line.startsWith('{') ? pretty(line).trimEnd() : line;
      process.stdout.write(`[${spec.name}] ${out}\n`);
    };
    createInterface({ input: child.stdout }).on('line', show);
    createInterface({ input: child.stderr }).on('line', show);
    child.on('exit', (code, signal) => {
      running.delete(spec.name);
      if (stopping) return;
      const stable = Date.now() - startedAt > 60_000;
      const next = stable ? 0 : attempt + 1;
      const delayMs = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** next);
      logger.warn(
        { child: spec.name, code, signal, restartInMs: delayMs },
        `${spec.name} exited; restarting`,
      );
      setTimeout(() => {
        if (!stopping) launch(spec, next);
      }, delayMs).unref();
    });
  };
  for (const spec of specs) launch(spec, 0);

  return {
    async stop() {
      stopping = true;
      await Promise.all(
        [...running.values()].map(
          (child) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null || child.signalCode !== null) return resolve();
              const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
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
