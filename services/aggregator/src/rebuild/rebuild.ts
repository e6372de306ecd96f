import Database from 'better-sqlite3';
import { existsSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { type Logger } from '@cdc/core';
import type { BatchDelta } from '../apply';
import { replaySilver, type Replayed } from './replay';
import type { AggregatorConfig } from '../config';
import { acquireDbLock } from '../lock';
import { checkSilverHistory } from './history';
import { startTempWriter, type TempWriter } from './writer';

/**
 * `cdc aggregate --rebuild`: a fresh database from silver, from the earliest offset up to the end
 * offsets (last stable offsets) captured at start (read.ts). The changes are replayed in memory
 * (replay.ts: the version rule on each change's head, then the KPIs of the final rows — checked
 * against the live path by the differential test), written to a temporary file next to the
 * database by a writer thread (writer.ts), and only when complete renamed over it — atomically.
 * Holds the database lock throughout, so no live aggregator writes meanwhile. The rebuilt database carries the end offsets, so a live
 * aggregator started afterwards continues from there; its snapshot versions continue above the
 * old database's, and every movie is republished to gold by the next live start.
 */
export interface RebuildProgress {
  /** Offsets covered so far (records, transaction markers included) out of `offsetsTotal`. */
  offsetsDone: number;
  offsetsTotal: number;
  /** Records consumed so far. */
  changes: number;
  phase: 'consume' | 'write' | 'swap';
}

export interface RebuildResult {
  /** Offsets silver no longer held at its head (a partial rebuild, `allowPartial`); 0 when complete. */
  offsetsGone: number;
  changes: number;
  applied: number;
  /** Of the applied: re-derivations (same version, newer derivation epoch). */
  rederived: number;
  skipped: number;
  malformed: number;
  undecodable: number;
  bookings: number;
  movies: number;
  partitions: number;
  endOffsets: Record<number, number>;
  /** From start to the rebuild consumer's group join (part of consumeMs). */
  joinMs: number;
  consumeMs: number;
  writeMs: number;
  totalMs: number;
  changesPerSecond: number;
}

function removeDbFiles(file: string): void {
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(file + suffix, { force: true });
}

/** The old database's last snapshot version (0 when there is none or it cannot be read). */
function previousSnapshotVersion(file: string, log: Logger): number {
  if (!existsSync(file)) return 0;
  try {
    const db = new Database(file, { fileMustExist: true });
    try {
      const row = db.prepare("SELECT value FROM meta WHERE key = 'snapshot_version'").pluck().get();
      return row === undefined ? 0 : Number(row);
    } finally {
      db.close();
    }
  } catch (err) {
    log.warn({ err }, 'could not read the old database; snapshot versions restart at 0');
    return 0;
  }
}

/**
 * Hands the replay's final rows to the writer thread as they are decoded (booking_id order), then
 * the KPIs, offsets and history; resolves when the new file is complete.
 */
async function writeTemp(
  writer: TempWriter,
  replayed: Replayed,
  topic: string,
  baseSnapshotVersion: number,
  started: number,
): Promise<{ delta: BatchDelta; bookings: number }> {
  const { read } = replayed;
  let bookings = 0;
  const delta = replayed.applier.finishEach((row) => {
    writer.write(row);
    bookings += 1;
  });
  await writer.finish({
    delta,
    now: Date.now(),
    offsets: [...read.endOffsets].map(([partition, nextOffset]) => ({ topic, partition, nextOffset })),
    baseSnapshotVersion,
    history: {
      startedAt: Date.now(),
      durationMs: performance.now() - started,
      changes: read.records,
      offsets: { topic, rebuild: true, next: Object.fromEntries(read.endOffsets) },
    },
  });
  return { delta, bookings };
}

export async function rebuildDatabase(
  config: AggregatorConfig,
  logger: Logger,
  options: { onProgress?: (p: RebuildProgress) => void; allowPartial?: boolean } = {},
): Promise<RebuildResult> {
  const log = logger.child({ component: 'rebuild' });
  const offsetsGone = await checkSilverHistory(config, log, options.allowPartial ?? false);
  const lock = acquireDbLock(config.dbPath);
  const dbPath = path.resolve(config.dbPath);
  const tmp = `${dbPath}.rebuild-${process.pid}.tmp`;
  const started = performance.now();
  const onProgress = options.onProgress ?? (() => undefined);
  const topic = config.topics.silver;
  try {
    const base = previousSnapshotVersion(dbPath, log);
    removeDbFiles(tmp);
    // The writer thread creates the file while silver is read.
    const writer = startTempWriter(tmp);
    let r: { replayed: Replayed; consumeMs: number; delta: BatchDelta; bookings: number };
    try {
      const replayed = await replaySilver(config, log, {
        started,
        onProgress: (p) => onProgress({ ...progressOf(p), phase: 'consume' }),
      });
      const consumeMs = performance.now() - started;
      onProgress({ ...progressOf(replayed.read), phase: 'write' });
      r = { replayed, consumeMs, ...(await writeTemp(writer, replayed, topic, base, started)) };
    } catch (err) {
      await writer.abort();
      throw err;
    }
    const { replayed, delta, consumeMs } = r;
    const { read } = replayed;
    const writeMs = performance.now() - started - consumeMs;

    onProgress({ ...progressOf(read), phase: 'swap' });
    if (existsSync(dbPath)) {
      // Fold the old WAL into the old file and drop it, so nothing of it can attach to the new file.
      const old = new Database(dbPath, { fileMustExist: true });
      old.pragma('wal_checkpoint(TRUNCATE)');
      old.close();
      rmSync(`${dbPath}-wal`, { force: true });
      rmSync(`${dbPath}-shm`, { force: true });
    }
    renameSync(tmp, dbPath);
    const totalMs = performance.now() - started;
    const result: RebuildResult = {
      offsetsGone,
      changes: read.records,
      applied: delta.applied,
      rederived: delta.rederived,
      skipped: delta.skipped,
      malformed: delta.malformed,
      undecodable: replayed.undecodable,
      bookings: r.bookings,
      movies: delta.movies.size,
      partitions: read.endOffsets.size,
      endOffsets: Object.fromEntries(read.endOffsets),
      joinMs: read.joinMs,
      consumeMs,
      writeMs,
      totalMs,
      changesPerSecond: read.records / (totalMs / 1000),
    };
    log.info(result, 'rebuild complete; database swapped in');
    return result;
  } finally {
    removeDbFiles(tmp);
    lock.release();
  }
}

const progressOf = (p: { records: number; offsetsDone?: number; offsetsTotal: number }) => ({
  offsetsDone: p.offsetsDone ?? p.offsetsTotal,
  offsetsTotal: p.offsetsTotal,
  changes: p.records,
});
