import { closeSync, ftruncateSync, openSync, rmSync, statSync, writeSync } from 'node:fs';

/**
 * The rejects file next to the input (`<input>.rejects.csv`): one CSV line per input line that
 * could not be imported — its line number, the reason, and the row as written — so it can be
 * fixed and imported on its own. Written synchronously, a batch at a time, so its size at a
 * checkpoint is exactly what the checkpoint covers (a resumed import cuts it back to that).
 */
export interface RejectsFile {
  readonly path: string;
  /** Bytes written so far. */
  readonly bytes: number;
  add(line: number, reason: string, raw: string | undefined): void;
  /** Writes what `add` collected. */
  flush(): void;
  /** Closes it; removes it when nothing was ever written. */
  close(): void;
}

const HEADER = 'line,reason,row\n';
const quote = (s: string): string => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

export const rejectsPath = (input: string): string =>
  input === '-' ? 'stdin.rejects.csv' : `${input.replace(/\.(csv|jsonl|ndjson|json|txt)$/i, '')}.rejects.csv`;

/** Opens the rejects file: cut back to `keepBytes` (a resumed import), or started anew. */
export function openRejects(path: string, keepBytes = 0): RejectsFile {
  let fd: number | null = null;
  let bytes = 0;
  let pending: string[] = [];
  if (keepBytes > 0) {
    let size = 0;
    try {
      size = statSync(path).size;
    } catch {
      size = 0;
    }
    if (size >= keepBytes) {
      fd = openSync(path, 'r+');
      ftruncateSync(fd, keepBytes);
      bytes = keepBytes;
    }
  } else {
    rmSync(path, { force: true });
  }
  const write = (text: string): void => {
    if (fd === null) {
      fd = openSync(path, 'w');
      bytes = 0;
      text = HEADER + text;
    }
    const buf = Buffer.from(text);
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off, bytes + off);
    bytes += buf.length;
  };
  return {
    path,
    get bytes() {
      return bytes;
    },
    add(line, reason, raw) {
      pending.push(`${line},${quote(reason)},${quote(raw ?? '')}\n`);
    },
    flush() {
      if (pending.length === 0) return;
      const text = pending.join('');
      pending = [];
      write(text);
    },
    close() {
      if (fd !== null) closeSync(fd);
      fd = null;
    },
  };
}
