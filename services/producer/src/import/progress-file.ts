import { createHash } from 'node:crypto';
import {
  closeSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { z } from 'zod';
import type { Checkpoint } from './checkpoint';
import type { ColumnMap } from './columns';

/**
 * The import's progress, in a small JSON file next to the input (`<input>.import-progress.json`),
 * rewritten atomically (write, then rename) about once a second and when the import stops. It
 * says which file it belongs to (size, modification time and a hash of its first 64 KiB), with
 * which settings, and the checkpoint: every line up to it is done. Running the same command
 * again continues after the checkpoint with the same run id, sequence base and change time, so
 * the result equals an uninterrupted run; lines after the checkpoint that reached bronze before
 * the interruption are found there and skipped as identical. A finished import deletes the file.
 */
export interface FileIdentity {
  size: number;
  mtimeMs: number;
  headSha256: string;
}

const identitySchema = z.object({ size: z.number(), mtimeMs: z.number(), headSha256: z.string() });
const countsSchema = z.object({
  rows: z.number(),
  created: z.number(),
  updated: z.number(),
  recreated: z.number(),
  unchanged: z.number(),
  rejected: z.number(),
  totalMismatches: z.number(),
});
const progressSchema = z.object({
  version: z.literal(1),
  input: identitySchema,
  settings: z.string(),
  run: z.object({ runId: z.string(), seqBase: z.number(), tsMs: z.number(), startedAt: z.number() }),
  checkpoint: z.object({ line: z.number(), counts: countsSchema, rejectsBytes: z.number() }),
  updatedAt: z.number(),
});
export type ImportProgress = z.infer<typeof progressSchema>;
export type ImportRun = ImportProgress['run'];

/**
 * The settings a progress file belongs to (a hash): a resume needs the same format, column map,
 * time zone and topic.
 */
export function settingsKey(s: { format: string; map: ColumnMap; timeZone: string; topic: string }): string {
  const map = [...s.map.entries()].sort().map(([f, c]) => `${c}=${f}`);
  return createHash('sha256')
    .update(JSON.stringify({ format: s.format, map, timeZone: s.timeZone, topic: s.topic }))
    .digest('hex')
    .slice(0, 16);
}

export const progressPath = (input: string): string => `${input}.import-progress.json`;

const HEAD_BYTES = 64 * 1024;

export function identify(path: string): FileIdentity {
  const st = statSync(path);
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(Math.min(HEAD_BYTES, st.size));
    readSync(fd, head, 0, head.length, 0);
    return {
      size: st.size,
      mtimeMs: st.mtimeMs,
      headSha256: createHash('sha256').update(head).digest('hex'),
    };
  } finally {
    closeSync(fd);
  }
}

export type ResumeCheck =
  | { kind: 'none' }
  | { kind: 'resume'; progress: ImportProgress }
  /** A progress file that does not match this input or these settings: started over. */
  | { kind: 'stale'; why: string };

export function readProgress(file: string, identity: FileIdentity, settings: string): ResumeCheck {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { kind: 'none' };
  }
  let progress: ImportProgress;
  try {
    progress = progressSchema.parse(JSON.parse(text));
  } catch {
    return { kind: 'stale', why: `${file} is not a progress file this version can read` };
  }
  const i = progress.input;
  if (i.size !== identity.size || i.mtimeMs !== identity.mtimeMs || i.headSha256 !== identity.headSha256) {
    return { kind: 'stale', why: 'the input changed since the interrupted import' };
  }
  if (progress.settings !== settings) {
    return {
      kind: 'stale',
      why: 'the interrupted import used other settings (--map, --time-zone, --format or topic)',
    };
  }
  return { kind: 'resume', progress };
}

export function writeProgress(file: string, progress: Omit<ImportProgress, 'version' | 'updatedAt'>): void {
  const body: ImportProgress = { version: 1, ...progress, updatedAt: Date.now() };
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(body, null, 2)}\n`);
  renameSync(tmp, file);
}

export function removeProgress(file: string): void {
  rmSync(file, { force: true });
  rmSync(`${file}.tmp`, { force: true });
}

export type { Checkpoint };
