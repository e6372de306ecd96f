import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { existsSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import {
  createDecoder,
  createKafka,
  createRegistryClient,
  DecodeError,
  errorMessage,
  loadSchema,
  type EnrichedBookingChange,
  type Logger,
} from '@cdc/core';
import { ReplayApplier } from './replay';
import type { AggregatorConfig } from './config';
import { SCHEMA_SQL, SCHEMA_VERSION } from './db-schema';
import { acquireDbLock } from './lock';
import { AggregatorStore } from './store';

/**
 * `cdc aggregate --rebuild`: a fresh database from silver, from the earliest offset up to the end
 * offsets (last stable offsets) captured at start. The changes are replayed in memory
 * (`ReplayApplier`: the version rule, then the KPIs of the final rows — checked against the live
 * path by the differential test), written to a temporary file next to the database,
 * and only when complete renamed over it — atomically. Holds the database lock throughout, so no
 * live aggregator writes meanwhile. The rebuilt database carries the end offsets, so a live
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
  changes: number;
  applied: number;
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

const PROGRESS_EVERY_MS = 250;

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
    log.warn({ err: errorMessage(err) }, 'could not read the old database; snapshot versions restart at 0');
    return 0;
  }
}

export async function rebuildDatabase(
  config: AggregatorConfig,
  logger: Logger,
  options: { onProgress?: (p: RebuildProgress) => void } = {},
): Promise<RebuildResult> {
  const log = logger.child({ component: 'rebuild' });
  const lock = acquireDbLock(config.dbPath);
  const dbPath = path.resolve(config.dbPath);
  const tmp = `${dbPath}.rebuild-${process.pid}.tmp`;
  const started = performance.now();
  try {
    removeDbFiles(tmp);
    const topic = config.topics.silver;
    const kafka = createKafka(config.connection, log);
    const admin = kafka.admin();
    await admin.connect();
    const groupId = `${config.groupId}.rebuild.${randomBytes(4).toString('hex')}`;
    const applier = new ReplayApplier();
    const end = new Map<number, number>();
    const position = new Map<number, number>();
    const low = new Map<number, number>();
    let total = 0;
    let consumed = 0;
    let undecodable = 0;
    let joinMs = 0;
    try {
      for (const p of await admin.fetchTopicOffsets(topic)) {
        end.set(p.partition, Number(p.high));
        position.set(p.partition, Number(p.low));
        low.set(p.partition, Number(p.low));
        total += Number(p.high) - Number(p.low);
      }
      log.info({ topic, partitions: end.size, records: total }, 'rebuilding from silver');
      const covered = () => [...position].reduce((a, [p, at]) => a + at - (low.get(p) ?? 0), 0);
      const report = (phase: RebuildProgress['phase']) =>
        options.onProgress?.({ offsetsDone: covered(), offsetsTotal: total, changes: consumed, phase });
      report('consume');
      const complete = () => [...end].every(([p, e]) => (position.get(p) ?? 0) >= e);
      if (!complete()) {
        const registry = createRegistryClient(config.connection.registryUrl);
        const decoder = createDecoder<EnrichedBookingChange>(
          registry,
          loadSchema('EnrichedBookingChange').type,
        );
        const consumer = kafka.consumer({
          groupId,
          sessionTimeout: config.sessionTimeoutMs,
          heartbeatInterval: config.heartbeatIntervalMs,
          maxBytes: config.fetchMaxBytes,
          maxBytesPerPartition: config.fetchMaxBytesPerPartition,
          readUncommitted: false,
        });
        let finished: () => void = () => undefined;
        let failed: (err: Error) => void = () => undefined;
        const whenDone = new Promise<void>((resolve, reject) => {
          finished = resolve;
          failed = reject;
        });
        let lastReport = 0;
        const advance = (partition: number, next: number) => {
          const e = end.get(partition) ?? 0;
          if (next > (position.get(partition) ?? 0)) position.set(partition, Math.min(next, e));
          if (complete()) finished();
        };
        consumer.on(consumer.events.GROUP_JOIN, () => {
          joinMs ||= performance.now() - started;
        });
        consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
          if (e.payload.batchSize === 0) advance(e.payload.partition, Number(e.payload.lastOffset) + 1);
        });
        consumer.on(consumer.events.CRASH, (e) => {
          if (!e.payload.restart) failed(e.payload.error);
        });
        try {
          await consumer.connect();
          await consumer.subscribe({ topic, fromBeginning: true });
          await consumer.run({
            autoCommit: false,
            eachBatch: async ({ batch }) => {
              const e = end.get(batch.partition) ?? 0;
              for (const m of batch.messages) {
                const offset = Number(m.offset);
                if (offset >= e) break;
                if (offset < (position.get(batch.partition) ?? 0)) continue;
                consumed += 1;
                try {
                  applier.apply(decoder.decodeKnown(m.value) ?? (await decoder.decode(m.value)));
                } catch (err) {
                  if (!(err instanceof DecodeError)) throw err;
                  undecodable += 1;
                  log.warn(
                    { partition: batch.partition, offset, code: err.code },
                    'undecodable record skipped',
                  );
                }
              }
              const now = Date.now();
              if (now - lastReport >= PROGRESS_EVERY_MS) {
                lastReport = now;
                report('consume');
              }
              advance(batch.partition, Number(batch.lastOffset()) + 1);
            },
          });
          await whenDone;
        } finally {
          await consumer.disconnect();
        }
      }
      report('consume');
    } finally {
      await admin.deleteGroups([groupId]).catch(() => undefined);
      await admin.disconnect();
    }
    const consumeMs = performance.now() - started;

    options.onProgress?.({ offsetsDone: total, offsetsTotal: total, changes: consumed, phase: 'write' });
    const delta = applier.finish();
    const base = previousSnapshotVersion(dbPath, log);
    const db = new Database(tmp);
    db.pragma('journal_mode = OFF');
    db.pragma('synchronous = OFF');
    db.exec(SCHEMA_SQL);
    db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run(
      'schema_version',
      String(SCHEMA_VERSION),
    );
    const store = new AggregatorStore(db, { bookingCacheSize: 0 });
    const endOffsets = Object.fromEntries(end);
    // Secondary indexes are built once after the bulk insert (faster than row by row).
    const indexes = db
      .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
      .all() as { name: string; sql: string }[];
    for (const ix of indexes) db.exec(`DROP INDEX "${ix.name}"`);
    db.transaction(() => {
      store.setSnapshotVersions(base, base);
      const offsets = [...end].map(([partition, nextOffset]) => ({ topic, partition, nextOffset }));
      const movies = store.writeDelta(delta, Date.now(), offsets, { emptyDatabase: true });
      store.recordHistory({
        startedAt: Date.now(),
        durationMs: performance.now() - started,
        changes: consumed,
        applied: delta.applied,
        skipped: delta.skipped,
        movies: movies.length,
        offsets: { topic, rebuild: true, next: endOffsets },
      });
    })();
    for (const ix of indexes) db.exec(ix.sql);
    db.pragma('journal_mode = WAL');
    store.close();
    const writeMs = performance.now() - started - consumeMs;

    options.onProgress?.({ offsetsDone: total, offsetsTotal: total, changes: consumed, phase: 'swap' });
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
      changes: consumed,
      applied: delta.applied,
      skipped: delta.skipped,
      malformed: delta.malformed,
      undecodable,
      bookings: delta.bookings.length,
      movies: delta.movies.size,
      partitions: end.size,
      endOffsets,
      joinMs,
      consumeMs,
      writeMs,
      totalMs,
      changesPerSecond: consumed / (totalMs / 1000),
    };
    log.info(result, 'rebuild complete; database swapped in');
    return result;
  } finally {
    removeDbFiles(tmp);
    lock.release();
  }
}
