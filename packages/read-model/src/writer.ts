import type Database from 'better-sqlite3';
import { CdcError, type EnrichedBooking } from '@cdc/core';
import { bookingValues, type StoredBooking } from './booking-row';
import { kpiRow, type MovieKpiRow } from './kpi-row';
import { openWritable } from './schema';
import type { KpiDelta, PartitionOffset, StateSource } from './state';
import { prepareStatements, type Statements } from './statements';
import { StoredStateCache } from './stored-state';

/**
 * The write side of the read model: current rows, movie_kpis, reference counts, applied
 * offsets, batch history and the gold snapshot counters, written in one transaction per batch
 * (prepared statements). Single writer: the process holding the database lock (the aggregator's
 * lock.ts), which is why its caches (stored-state.ts) can be trusted between batches.
 */
const HISTORY_KEEP = 10_000;
/** SQLite page cache of the writer (KiB): the bookings table's hot part stays in memory. */
const CACHE_KIB = 128 * 1024;
const DEFAULT_BOOKING_CACHE = 250_000;

export interface WriterOptions {
  /** Booking rows kept in memory between batches (0: none). */
  bookingCacheSize?: number;
  /**
   * Keep a Bloom filter of the stored booking ids (loaded at open, kept up to date by the writer),
   * so a booking certainly not stored — most new bookings — costs no point lookup. Default true.
   */
  bookingFilter?: boolean;
}

/** One partition's part of a batch: the offsets the batch covers. */
export interface BatchWritePart {
  partition: number;
  /** The partition's stored offset when the batch was opened: the write fails if it moved since. */
  openedAtOffset: number;
  /** Next offset to read after the batch. */
  nextOffset: number;
  /** The first offset the batch applied, -1 when none (for the history row). */
  firstOffset: number;
}

/** A batch of one or more partitions of a topic, applied in memory, to be written in one transaction. */
export interface BatchWrite {
  topic: string;
  parts: BatchWritePart[];
  delta: KpiDelta;
  /** Records, applied and skipped changes of the batch (for the history row). */
  changes: number;
  applied: number;
  skipped: number;
  /** Of the applied: re-derivations (same version, newer derivation epoch). */
  rederived: number;
  /** When the batch started: epoch ms, and `performance.now()` (for its duration). */
  startedAt: number;
  started: number;
}

export interface BatchWritten {
  batchId: number;
  /** The stored next offset of every part (never moves back). */
  partitions: { partition: number; nextOffset: number }[];
  durationMs: number;
  /** Every changed movie's new row, each with its new snapshot_version. */
  movies: MovieKpiRow[];
}

export interface HistoryEntry {
  startedAt: number;
  durationMs: number;
  changes: number;
  applied: number;
  skipped: number;
  rederived: number;
  movies: number;
  offsets: unknown;
}

export class ReadModelWriter {
  /** Stored state through write-through caches (movie states, recently used booking rows). */
  readonly source: StateSource;
  private readonly s: Statements;
  private snapshotVersion: number;
  private publishedVersion: number;
  /** The published mark as stored (markPublished moves it in memory; a later write stores it). */
  private writtenPublishedVersion: number;
  private batches = 0;
  private readonly cache: StoredStateCache;

  constructor(
    readonly db: Database.Database,
    options: WriterOptions = {},
  ) {
    this.s = prepareStatements(db);
    this.cache = new StoredStateCache(
      this.s,
      options.bookingCacheSize ?? DEFAULT_BOOKING_CACHE,
      options.bookingFilter !== false,
    );
    this.source = this.cache.source;
    this.snapshotVersion = this.metaNumber('snapshot_version');
    this.publishedVersion = this.metaNumber('published_snapshot_version');
    this.writtenPublishedVersion = this.publishedVersion;
  }

  /** Opens (creating if needed) a database file for writing, with a large page cache. */
  static open(file: string, options: WriterOptions = {}): ReadModelWriter {
    const db = openWritable(file);
    db.pragma(`cache_size = -${CACHE_KIB}`);
    return new ReadModelWriter(db, options);
  }

  /** Next offset to read per partition of `topic`, as committed with the KPIs. */
  storedOffsets(topic: string): Map<number, number> {
    const rows = this.s.offsets.all(topic) as { partition: number; next_offset: number }[];
    return new Map(rows.map((r) => [r.partition, r.next_offset]));
  }

  /** Next offset to read of one partition (0 when none is stored). */
  storedOffset(topic: string, partition: number): number {
    return (this.s.offset.get(topic, partition) as number | undefined) ?? 0;
  }

  /** The last snapshot_version assigned, and the last one known to be published to gold. */
  get snapshotVersions(): { assigned: number; published: number } {
    return { assigned: this.snapshotVersion, published: this.publishedVersion };
  }

  /**
   * Writes a batch, its offsets and a history row in one transaction (with the published mark,
   * when it moved since the last write); on failure nothing is kept and the caches are dropped.
   */
  commitBatch(w: BatchWrite): BatchWritten {
    const before = this.snapshotVersion;
    const writtenMark = this.writtenPublishedVersion;
    const txn = this.db.transaction((): BatchWritten => {
      const offsets: PartitionOffset[] = [];
      const ranges: { topic: string; partition: number; from: number; next: number }[] = [];
      for (const p of w.parts) {
        const stored = this.storedOffset(w.topic, p.partition);
        if (stored !== p.openedAtOffset) {
          throw new CdcError(
            'STORED_STATE_INVALID',
            `offset of ${w.topic}/${p.partition} moved from ${p.openedAtOffset} to ${stored} during a batch`,
          );
        }
        const nextOffset = Math.max(stored, p.nextOffset);
        offsets.push({ topic: w.topic, partition: p.partition, nextOffset });
        ranges.push({
          topic: w.topic,
          partition: p.partition,
          from: p.firstOffset < 0 ? nextOffset : p.firstOffset,
          next: nextOffset,
        });
      }
      const movies = this.writeDelta(w.delta, w.startedAt, offsets);
      this.writePublishedMark();
      const durationMs = performance.now() - w.started;
      const batchId = this.recordHistory({
        startedAt: w.startedAt,
        durationMs,
        changes: w.changes,
        applied: w.applied,
        skipped: w.skipped,
        rederived: w.rederived,
        movies: movies.length,
        // One partition: its range (as before batches spanned partitions); several: the list.
        offsets: ranges.length === 1 ? ranges[0] : ranges,
      });
      if (++this.batches % 256 === 0) this.s.pruneHistory.run(batchId - HISTORY_KEEP);
      return {
        batchId,
        partitions: offsets.map((o) => ({ partition: o.partition, nextOffset: o.nextOffset })),
        durationMs,
        movies,
      };
    });
    try {
      return txn.immediate();
    } catch (err) {
      this.snapshotVersion = before;
      this.writtenPublishedVersion = writtenMark;
      this.dropCaches();
      throw err;
    }
  }

  /** Moves a partition's stored offset forward over records that carry no change (control records). */
  advanceOffset(topic: string, partition: number, nextOffset: number): boolean {
    return this.db
      .transaction(() => {
        if (nextOffset <= this.storedOffset(topic, partition)) return false;
        this.s.putOffset.run(topic, partition, nextOffset);
        return true;
      })
      .immediate();
  }

  /**
   * Writes a delta (inside the caller's transaction): bookings, reference counts, the changed
   * movies with new snapshot versions, the offsets. Returns the changed movies' rows.
   */
  writeDelta(delta: KpiDelta, now: number, offsets: PartitionOffset[]): MovieKpiRow[] {
    const s = this.s;
    for (const row of delta.bookings) this.writeBooking(row);
    const rows: MovieKpiRow[] = [];
    for (const [key, m] of delta.movies) {
      for (const day of m.dirtyDays) {
        const n = m.state.days.get(day) ?? 0;
        if (n < 0) throw inconsistent(`negative day count for ${key} ${day}`);
        if (n === 0) {
          s.delDay.run(key, day);
          m.state.days.delete(day);
        } else s.putDay.run(key, day, n);
      }
      for (const hour of m.dirtyHours) {
        const n = m.state.hours.get(hour) ?? 0;
        if (n < 0) throw inconsistent(`negative hour count for ${key} ${hour}`);
        if (n === 0) {
          s.delHour.run(key, hour);
          m.state.hours.delete(hour);
        } else s.putHour.run(key, hour, n);
      }
      const row = kpiRow(m.state.counters, now, ++this.snapshotVersion);
      s.putMovie.run(row);
      rows.push(row);
      this.cache.putMovie(key, m.state);
    }
    if (rows.length > 0) s.putMeta.run('snapshot_version', String(this.snapshotVersion));
    for (const o of offsets) s.putOffset.run(o.topic, o.partition, o.nextOffset);
    return rows;
  }

  /** Inserts one booking row, as `bookingValues`, into a fresh database (a rebuild; in a transaction). */
  insertBookingValues(values: unknown[]): void {
    this.s.insertBooking.run(values);
    this.cache.noteBookingId(values[0] as string);
  }

  /** Forgets every cached row (after a failed transaction, the database is the truth again). */
  dropCaches(): void {
    this.cache.clear();
  }

  /** Rows changed since the last published snapshot (to republish after a crash or a failed send). */
  pendingSnapshots(): MovieKpiRow[] {
    return this.s.pending.all(this.publishedVersion) as MovieKpiRow[];
  }

  /**
   * Records that every snapshot up to `version` reached the gold topic. The mark is written with
   * the next batch's transaction (not a transaction of its own per gold send), or by
   * `flushPublishedMark` (on close, and when no batch follows). A mark lost in a crash only means
   * those snapshots are published once more (same versions), which gold's consumers tolerate.
   */
  markPublished(version: number): void {
    if (version <= this.publishedVersion) return;
    this.publishedVersion = version;
  }

  /** Writes the published mark now if it moved since it was last written (outside a batch). */
  flushPublishedMark(): void {
    if (this.publishedVersion > this.writtenPublishedVersion && this.db.open) this.writePublishedMark();
  }

  /** Sets both snapshot counters (a rebuilt database continues above the old one's). */
  setSnapshotVersions(assigned: number, published: number): void {
    this.s.putMeta.run('snapshot_version', String(assigned));
    this.s.putMeta.run('published_snapshot_version', String(published));
    this.snapshotVersion = assigned;
    this.publishedVersion = published;
    this.writtenPublishedVersion = published;
  }

  /** Adds a batch_history row (with the current snapshot version); returns its id. */
  recordHistory(entry: HistoryEntry): number {
    const info = this.s.history.run(
      entry.startedAt,
      entry.durationMs,
      entry.changes,
      entry.applied,
      entry.skipped,
      entry.rederived,
      entry.movies,
      JSON.stringify(entry.offsets),
      this.snapshotVersion,
    );
    return Number(info.lastInsertRowid);
  }

  close(): void {
    this.flushPublishedMark();
    if (this.db.open) this.db.close();
  }

  private writePublishedMark(): void {
    if (this.publishedVersion <= this.writtenPublishedVersion) return;
    this.s.putMeta.run('published_snapshot_version', String(this.publishedVersion));
    this.writtenPublishedVersion = this.publishedVersion;
  }

  private writeBooking(row: StoredBooking): void {
    this.s.putBooking.run(bookingValues(row));
    const id = (row.image as EnrichedBooking).booking_id;
    // Added before the transaction commits: if it fails, the id is only a false positive.
    this.cache.noteBookingId(id);
    row.image = undefined; // the cache keeps the KPI fields only
    row.event_id = undefined;
    this.cache.cacheBooking(id, row);
  }

  private metaNumber(key: string): number {
    const v = this.s.getMeta.get(key) as string | undefined;
    return v === undefined ? 0 : Number(v);
  }
}

const inconsistent = (what: string): CdcError =>
  new CdcError('STORED_STATE_INVALID', `${what}: the store is inconsistent`);
