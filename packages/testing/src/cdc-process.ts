import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { ConnectionConfig } from '@cdc/core';

/**
 * `cdc` as a child process, as users run it: `node bin/cdc.js <args>` from the compiled CLI
 * (build first: `npm run build`). Output is captured (and echoed with TEST_CDC_ECHO=1), waits
 * have timeouts and fail at once, with the process's output, if it exits first; and a process is
 * never left behind: `close()` (give it to `TestContext.track`) kills it, and so does the end of
 * the test process for any still running. `runCdc` runs a command to its end and returns its exit
 * code and output.
 */
export const REPO_ROOT = path.resolve(__dirname, '../../..');
export const CDC_BIN = path.join(REPO_ROOT, 'bin', 'cdc.js');

export interface CdcOptions {
  /** The broker, registry and topic prefix to use (a test context's `connection`). */
  connection?: ConnectionConfig;
  /**
   * Environment over `process.env` and the connection's; `undefined` removes a variable.
   * LOG_LEVEL defaults to TEST_LOG_LEVEL, else `warn`.
   */
  env?: Record<string, string | undefined>;
  /** Copy the child's stderr to this process's stderr as it comes (default: TEST_CDC_ECHO=1). */
  echo?: boolean;
  /** Characters of each stream kept; older output is dropped (default 1 MiB). */
  keepChars?: number;
  /**
   * Another checkout's `bin/cdc.js` to run instead of this one's (benchmarks compare builds side
   * by side with one harness); it runs from that checkout's root.
   */
  bin?: string;
  /** Options for node itself, before the script (e.g. `--cpu-prof`). */
  nodeArgs?: string[];
}

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** What is awaited, for the error message. */
  what: string;
}

/** How a command ended: its exit code (null when a signal ended it) and its whole output. */
export interface CdcResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CdcProcess {
  readonly args: readonly string[];
  readonly child: ChildProcess;
  /** The exit code once the process has exited and its output is read; null when a signal ended it. */
  readonly exited: Promise<number | null>;
  running(): boolean;
  stdout(): string;
  stderr(): string;
  /** The command, its state and the end of its output: for error messages. */
  describe(): string;
  /** Polls `check` until it returns something other than undefined/false; fails at once if the process exits. */
  waitFor<T>(
    check: () => T | undefined | false | Promise<T | undefined | false>,
    options: WaitOptions,
  ): Promise<T>;
  /** Waits until `pattern` appears in the output (both streams unless `stream`); returns the match. */
  waitForOutput(
    pattern: RegExp | string,
    options?: { stream?: 'stdout' | 'stderr'; timeoutMs?: number },
  ): Promise<RegExpExecArray>;
  signal(signal: NodeJS.Signals): void;
  /** SIGSTOP: the process stalls where it is (as in a long pause of its host) until `resume()`. */
  pause(): void;
  /** SIGCONT after `pause()`. */
  resume(): void;
  /**
   * Sends `signal` (default SIGTERM; a paused process is resumed to act on it) and returns the exit
   * code; SIGKILLs and throws after `timeoutMs`.
   */
  stop(signal?: NodeJS.Signals, options?: { timeoutMs?: number }): Promise<number | null>;
  /** SIGKILL, then waits for the exit. */
  kill(): Promise<void>;
  /** Waits for the exit (SIGKILL and throw after `timeoutMs`); throws with the output unless it is `code`. */
  expectExit(code: number | null, options?: { timeoutMs?: number }): Promise<void>;
  /** Waits for the exit (SIGKILL and throw after `timeoutMs`, default 120 s); the code and output. */
  result(options?: { timeoutMs?: number }): Promise<CdcResult>;
  /** Kills the process if it still runs (for `TestContext.track` and cleanup hooks). */
  close(): Promise<void>;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;
/** Whatever a test forgot: no child outlives the test process. */
function killAllOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function startCdc(args: readonly string[], options: CdcOptions = {}): CdcProcess {
  const bin = options.bin === undefined ? CDC_BIN : path.resolve(options.bin);
  const root = path.dirname(path.dirname(bin));
  // apps/cdc since the layers were drawn; packages/cli before (a bench may run an older build).
  const compiled = [
    path.join(root, 'apps', 'cdc', 'dist', 'main.js'),
    path.join(root, 'packages', 'cli', 'dist', 'main.js'),
  ].find((candidate) => existsSync(candidate));
  if (compiled === undefined) {
    throw new Error(
      `cdc runs the compiled CLI: build first (npm run build); ${path.join(root, 'apps', 'cdc', 'dist', 'main.js')} is missing`,
    );
  }
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn' };
  if (options.connection) {
    env.KAFKA_BROKERS = options.connection.brokers.join(',');
    env.SCHEMA_REGISTRY_URL = options.connection.registryUrl;
    env.TOPIC_PREFIX = options.connection.topicPrefix;
  }
  for (const [k, v] of Object.entries(options.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const keep = options.keepChars ?? 1 << 20;
  const echo = options.echo ?? process.env.TEST_CDC_ECHO === '1';

  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), bin, ...args], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  killAllOnExit();
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => {
    out = (out + d.toString()).slice(-keep);
  });
  child.stderr.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-keep);
    if (echo) process.stderr.write(d);
  });
  const exited = new Promise<number | null>((resolve) => {
    // 'close': the process has exited and both streams are read to their end.
    child.once('close', (code) => {
      live.delete(child);
      resolve(code);
    });
    child.once('error', () => {
      live.delete(child);
      resolve(null);
    });
  });
  const running = () => child.exitCode === null && child.signalCode === null;
  let paused = false;
  const name = `cdc ${args.join(' ')}`;

  const describe = (): string => {
    const state = running()
      ? `running (pid ${child.pid})`
      : child.signalCode
        ? `ended by ${child.signalCode}`
        : `exited ${child.exitCode}`;
    const tail = (s: string) => (s.length > 4000 ? `…${s.slice(-4000)}` : s) || '(nothing)';
    return `${name}: ${state}\n--- stderr:\n${tail(err)}\n--- stdout:\n${tail(out)}`;
  };

  const waitForExit = async (timeoutMs: number, after: string): Promise<number | null> => {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const result = await Promise.race([exited, timedOut]);
    clearTimeout(timer);
    if (result !== 'timeout') return result;
    child.kill('SIGKILL');
    await exited;
    throw new Error(`${name} did not exit within ${timeoutMs} ms ${after}; killed\n${describe()}`);
  };

  const proc: CdcProcess = {
    args,
    child,
    exited,
    running,
    stdout: () => out,
    stderr: () => err,
    describe,
    async waitFor(check, { timeoutMs, intervalMs = 100, what }) {
      const deadline = Date.now() + timeoutMs;
      let lastError: unknown;
      const attempt = async () => {
        try {
          const v = await check();
          return v === undefined || v === false ? undefined : v;
        } catch (e) {
          lastError = e;
          return undefined;
        }
      };
      for (;;) {
        const v = await attempt();
        if (v !== undefined) return v;
        if (!running()) {
          await exited;
          const last = await attempt(); // what the last output made true
          if (last !== undefined) return last;
          throw new Error(`${name} ended while waiting for ${what}\n${describe()}`);
        }
        if (Date.now() >= deadline) {
          const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
          throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}\n${describe()}`);
        }
        await sleep(intervalMs);
      }
    },
    waitForOutput(pattern, { stream, timeoutMs = 30_000 } = {}) {
      const re = typeof pattern === 'string' ? new RegExp(escape(pattern)) : pattern;
      const text = () => (stream === 'stdout' ? out : stream === 'stderr' ? err : `${err}\n${out}`);
      return proc.waitFor(() => re.exec(text()) ?? undefined, {
        timeoutMs,
        intervalMs: 50,
        what: `${String(re)} in ${stream ?? 'the output'}`,
      });
    },
    signal(signal) {
      if (running()) child.kill(signal);
    },
    pause() {
      proc.signal('SIGSTOP');
      paused = true;
    },
    resume() {
      proc.signal('SIGCONT');
      paused = false;
    },
    async stop(signal = 'SIGTERM', { timeoutMs = 30_000 } = {}) {
      proc.signal(signal);
      if (paused) proc.resume();
      return waitForExit(timeoutMs, `after ${signal}`);
    },
    async kill() {
      proc.signal('SIGKILL');
      await exited;
    },
    async expectExit(code, { timeoutMs = 120_000 } = {}) {
      const actual = await waitForExit(timeoutMs, '');
      if (actual !== code) throw new Error(`${name} exited ${actual}, expected ${code}\n${describe()}`);
    },
    async result({ timeoutMs = 120_000 } = {}) {
      const code = await waitForExit(timeoutMs, '');
      return { code, stdout: out, stderr: err };
    },
    close: () => proc.kill(),
  };
  return proc;
}

/** Runs `cdc <args>` to its end (SIGKILL and throw after `timeoutMs`, default 120 s): its exit code and output. */
export function runCdc(
  args: readonly string[],
  options: CdcOptions & { timeoutMs?: number } = {},
): Promise<CdcResult> {
  const { timeoutMs, ...start } = options;
  return startCdc(args, start).result({ timeoutMs });
}
