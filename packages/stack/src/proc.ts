import { spawn, spawnSync } from 'node:child_process';
import { existsSync, openSync, readFileSync, closeSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { sleep, StackError } from '@cdc/core';

/** Starts a detached background process whose output goes to `logFile`; records its pid in `pidFile`. */
export function spawnDetached(
  command: string,
  args: string[],
  opts: { logFile: string; pidFile: string; cwd?: string },
): number {
  const fd = openSync(opts.logFile, 'a');
  try {
    const child = spawn(command, args, { detached: true, stdio: ['ignore', fd, fd], cwd: opts.cwd });
    if (child.pid === undefined) throw new StackError(`could not start ${command}`);
    child.unref();
    writeFileSync(opts.pidFile, String(child.pid));
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

/**
 * Whether the process runs. A zombie (dead, not yet reaped by its parent: for a moment after a
 * SIGKILL, or for good under a parent that never reaps) answers signal 0 like a live process, so
 * on Linux /proc decides; a start-up right after a kill otherwise found the dead process
 * "running" and started nothing. A JVM's main thread may be a zombie while its other threads
 * still exit and still hold its sockets: dead means a zombie with no thread left but the leader.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const zombie = /^State:\s+Z/m.test(status);
    const threads = Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? 1);
    return !(zombie && threads <= 1);
  } catch {
    return true; // no /proc (not Linux): signal 0 is all there is
  }
}

export function readPid(pidFile: string): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
}

/** SIGTERM, then SIGKILL after `graceMs`. Resolves when the process is gone. */
export async function stopPid(pid: number, graceMs: number): Promise<'stopped' | 'killed'> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return 'stopped';
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return 'stopped';
    await sleep(100);
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
  while (isAlive(pid)) await sleep(50);
  return 'killed';
}

export function removeFile(file: string): void {
  rmSync(file, { force: true });
}

/** True when something accepts TCP connections on host:port. */
export function isPortOpen(port: number, host = '127.0.0.1', timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Resolves the java binary (JAVA_HOME first) and checks it is Java 17 or newer. */
export function findJava(): string {
  const java = process.env.JAVA_HOME ? `${process.env.JAVA_HOME}/bin/java` : 'java';
  const r = spawnSync(java, ['-version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new StackError(
      `Java 17+ is needed to run Kafka and the registry, but '${java} -version' failed: ${r.error?.message ?? r.stderr}`,
    );
  }
  const m = /version "(\d+)/.exec(r.stderr);
  const major = m ? Number(m[1]) : 0;
  if (major < 17)
    throw new StackError(`Java 17+ is needed; '${java}' is version ${m?.[1] ?? 'unknown'}. Set JAVA_HOME.`);
  return java;
}

export function tailFile(file: string, lines = 20): string {
  if (!existsSync(file)) return '(no log)';
  return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
}
