import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '@cdc/core';

/**
 * One writer per database: the live aggregator and a rebuild both hold `<db>.lock` (the owner's
 * pid). A lock left by a dead process (SIGKILL) is taken over; one held by a live process is
 * refused with a message naming it.
 */
export interface DbLock {
  readonly file: string;
  release(): void;
}

/** Locks held by this process (a pid check cannot tell two holders in one process apart). */
const held = new Set<string>();

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

export function acquireDbLock(dbPath: string): DbLock {
  const file = `${path.resolve(dbPath)}.lock`;
  mkdirSync(path.dirname(file), { recursive: true });
  if (held.has(file)) {
    throw new UsageError(
      `the aggregator database ${dbPath} is already in use by this process (lock ${file})`,
    );
  }
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      let released = false;
      held.add(file);
      return {
        file,
        release() {
          if (released) return;
          released = true;
          held.delete(file);
          try {
            if (readFileSync(file, 'utf8').trim() === String(process.pid)) unlinkSync(file);
          } catch {
            // already gone
          }
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let owner = NaN;
    try {
      owner = Number(readFileSync(file, 'utf8').trim());
    } catch {
      continue; // released meanwhile
    }
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) {
      throw new UsageError(
        `the aggregator database ${dbPath} is in use by process ${owner} (lock ${file}); ` +
          'stop that aggregator first, or use another --db',
      );
    }
    try {
      unlinkSync(file); // stale: its owner is gone
    } catch {
      // someone else removed it
    }
  }
  throw new UsageError(
    `could not take the lock ${file}; another aggregator is starting on the same database`,
  );
}
