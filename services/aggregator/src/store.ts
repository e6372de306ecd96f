import type Database from 'better-sqlite3';
import type { EnrichedBooking } from '@cdc/core';
import type { BatchDelta, MovieState, StateSource } from './apply';
import {
  OpenBatch,
  type BatchCommit,
  type BatchInput,
  type BatchResult,
  type PartitionOffset,
} from './batch';
import { openWritable } from './db-schema';
import { countersFromRow, kpiRow, type MovieKpiRow, type StoredBooking } from './kpi';
import { bookingValues, prepareStatements, type Statements } from './statements';

/**
 * The SQLite edge: current rows, movie_kpis, reference counts, applied offsets, batch history
 * and the gold snapshot counters, all written in one transaction per batch (prepared statements).
 * Single writer: the process holding the database lock (see lock.ts).
 */
const HISTORY_KEEP = 10_000;
/** SQLite page cache of the writer (KiB): the bookings table's hot part stays in memory. */
const CACHE_KIB = 128 * 1024;
const DEFAULT_BOOKING_CACHE = 250_000;

export class AggregatorStore {
  readonly source: StateSource;
  private readonly s: Statements;
  private snapshotVersion: number;
  private publishedVersion: number;
  private batches = 0;
  /**
   * Write-through caches (this process is the only writer: see lock.ts): movie states, and the
   * most recently written or read booking rows (bounded). Dropped when a transaction fails.
   */
  private readonly movieCache = new Map<string, MovieState>();
  private readonly bookingCache = new Map<string, StoredBooking>();
  private readonly bookingCacheSize: number;

  constructor(
    readonly db: Database.Database,
    options: { bookingCacheSize?: number } = {},
  ) {
    this.bookingCacheSize = options.bookingCacheSize ?? DEFAULT_BOOKING_CACHE;
    this.s = prepareStatements(db);
    const s = this.s;
    this.source = {
      booking: (id) => {
        const hit = this.bookingCache.get(id);
        if (hit !== undefined) return hit;
        const row = s.booking.get(id) as StoredBooking | undefined;
        if (row !== undefined) this.cacheBooking(id, row);
        return row;
      },
      movie: (key) => {
        const hit = this.movieCache.get(key);
        if (hit !== undefined) return hit;
        const row = s.movie.get(key) as Record<string, unknown> | undefined;
        if (row === undefined) return undefined;
        const state: MovieState = {
          counters: countersFromRow(row),
          days: new Map(s.days.all(key) as [string, number][]),
          hours: new Map(s.hours.all(key) as [number, number][]),
        };
        this.movieCache.set(key, state);
        return state;
      },
    };
    this.snapshotVersion = this.metaNumber('snapshot_version');
    this.publishedVersion = this.metaNumber('published_snapshot_version');
  }

  static open(file: string, options: { bookingCacheSize?: number } = {}): AggregatorStore {
    const db = openWritable(file);
    db.pragma(`cache_size = -${CACHE_KIB}`);
    return new AggregatorStore(db, options);
  }

  /** Next offset to read per partition of `topic`, as committed with the KPIs. */
  storedOffsets(topic: string): Map<number, number> {
    const rows = this.s.offsets.all(topic) as { partition: number; next_offset: number }[];
    return new Map(rows.map((r) => [r.partition, r.next_offset]));
  }

  /** The last snapshot_version assigned, and the last one known to be published to gold. */
  get snapshotVersions(): { assigned: number; published: number } {
    return { assigned: this.snapshotVersion, published: this.publishedVersion };
  }

  /** Next offset to read of one partition (0 when none is stored). */
  storedOffset(topic: string, partition: number): number {
    return (this.s.offset.get(topic, partition) as number | undefined) ?? 0;
  }

  /**
   * Starts a batch of one partition: changes are applied in memory as they are added (decoded
   * objects die young), then `commit` writes everything in one transaction. See batch.ts.
   */
  openBatch(topic: string, partition: number): OpenBatch {
    return new OpenBatch(this, topic, partition);
  }

  /** Applies one partition's batch in one transaction (records below the stored offset are ignored). */
  applyBatch(input: BatchInput): BatchResult {
    const batch = this.openBatch(input.topic, input.partition);
    try {
      for (const r of input.records) batch.add(r.offset, r.change);
      return batch.commit(input.nextOffset);
    } catch (err) {
      batch.abandon();
      throw err;
    }
  }

  /** Commits an open batch: the delta, the offset and a history row, in one transaction. */
  commitBatch(c: BatchCommit): BatchResult {
    const before = this.snapshotVersion;
    const txn = this.db.transaction((): BatchResult => {
      const stored = this.storedOffset(c.topic, c.partition);
      if (stored !== c.storedAtOpen) {
        throw new Error(
          `offset of ${c.topic}/${c.partition} moved from ${c.storedAtOpen} to ${stored} during a batch`,
        );
      }
      const nextOffset = Math.max(stored, c.nextOffset);
      const movies = this.writeDelta(c.delta, c.startedAt, [
        { topic: c.topic, partition: c.partition, nextOffset },
      ]);
      const durationMs = performance.now() - c.started;
      const offsets = JSON.stringify({
        topic: c.topic,
        partition: c.partition,
        from: c.firstOffset < 0 ? nextOffset : c.firstOffset,
        next: nextOffset,
      });
      const changes = c.delta.applied + c.delta.skipped + c.delta.malformed + c.undecodable;
      const info = this.s.history.run(
        c.startedAt,
        durationMs,
        changes,
        c.delta.applied,
        c.delta.skipped,
        movies.length,
        offsets,
        this.snapshotVersion,
      );
      const batchId = Number(info.lastInsertRowid);
      if (++this.batches % 256 === 0) this.s.pruneHistory.run(batchId - HISTORY_KEEP);
      return {
        batchId,
        changes,
        applied: c.delta.applied,
        skipped: c.delta.skipped,
        malformed: c.delta.malformed,
        undecodable: c.undecodable,
        alreadyApplied: c.alreadyApplied,
        durationMs,
        maxEventTsMs: c.delta.maxEventTsMs,
        movies,
        nextOffset,
      };
    });
    try {
      return txn.immediate();
    } catch (err) {
      this.snapshotVersion = before;
      this.dropCaches();
      throw err;
    }
  }

  /** Moves a partition's stored offset forward over records that carry no change (control records). */
  advanceOffset(topic: string, partition: number, nextOffset: number): boolean {
    return this.db
      .transaction(() => {
        const stored = (this.s.offset.get(topic, partition) as number | undefined) ?? 0;
        if (nextOffset <= stored) return false;
        this.s.putOffset.run(topic, partition, nextOffset);
        return true;
      })
      .immediate();
  }

  /**
   * Writes a delta (inside the caller's transaction): bookings, reference counts, the changed
   * movies with new snapshot versions, the offsets. Returns the changed movies' rows.
   */
  writeDelta(delta: BatchDelta, now: number, offsets: PartitionOffset[]): MovieKpiRow[] {
    const s = this.s;
    for (const row of delta.bookings) this.writeBooking(row);
    const rows: MovieKpiRow[] = [];
    for (const [key, m] of delta.movies) {
      for (const day of m.dirtyDays) {
        const n = m.state.days.get(day) ?? 0;
        if (n < 0) throw new Error(`negative day count for ${key} ${day}: the store is inconsistent`);
        if (n === 0) {
          s.delDay.run(key, day);
          m.state.days.delete(day);
        } else s.putDay.run(key, day, n);
      }
      for (const hour of m.dirtyHours) {
        const n = m.state.hours.get(hour) ?? 0;
        if (n < 0) throw new Error(`negative hour count for ${key} ${hour}: the store is inconsistent`);
        if (n === 0) {
          s.delHour.run(key, hour);
          m.state.hours.delete(hour);
        } else s.putHour.run(key, hour, n);
      }
      const row = kpiRow(m.state.counters, now, ++this.snapshotVersion);
      s.putMovie.run(row);
      rows.push(row);
      this.movieCache.set(key, m.state);
    }
    if (rows.length > 0) s.putMeta.run('snapshot_version', String(this.snapshotVersion));
    for (const o of offsets) s.putOffset.run(o.topic, o.partition, o.nextOffset);
    return rows;
  }

  /** Inserts one booking row, as `bookingValues`, into a fresh database (a rebuild; in a transaction). */
  insertBookingValues(values: unknown[]): void {
    this.s.insertBooking.run(values);
  }

  private writeBooking(row: StoredBooking): void {
    this.s.putBooking.run(bookingValues(row));
    const id = (row.image as EnrichedBooking).booking_id;
    row.image = undefined; // the cache keeps the KPI fields only
    row.event_id = undefined;
    this.cacheBooking(id, row);
  }

  /** Forgets every cached row (after a failed transaction, the database is the truth again). */
  dropCaches(): void {
    this.movieCache.clear();
    this.bookingCache.clear();
  }

  private cacheBooking(id: string, row: StoredBooking): void {
    if (this.bookingCacheSize === 0) return;
    this.bookingCache.delete(id);
    this.bookingCache.set(id, row);
    if (this.bookingCache.size > this.bookingCacheSize) {
      const oldest = this.bookingCache.keys().next().value as string;
      this.bookingCache.delete(oldest);
    }
  }

  /** Rows changed since the last published snapshot (to republish after a crash or a failed send). */
  pendingSnapshots(): MovieKpiRow[] {
    return this.s.pending.all(this.publishedVersion) as MovieKpiRow[];
  }

  /** Records that every snapshot up to `version` reached the gold topic. */
  markPublished(version: number): void {
    if (version <= this.publishedVersion) return;
    this.s.putMeta.run('published_snapshot_version', String(version));
    this.publishedVersion = version;
  }

  /** Sets both snapshot counters (a rebuilt database continues above the old one's). */
  setSnapshotVersions(assigned: number, published: number): void {
    this.s.putMeta.run('snapshot_version', String(assigned));
    this.s.putMeta.run('published_snapshot_version', String(published));
    this.snapshotVersion = assigned;
    this.publishedVersion = published;
  }

  recordHistory(entry: {
    startedAt: number;
    durationMs: number;
    changes: number;
    applied: number;
    skipped: number;
    movies: number;
    offsets: unknown;
  }): void {
    this.s.history.run(
      entry.startedAt,
      entry.durationMs,
      entry.changes,
      entry.applied,
      entry.skipped,
      entry.movies,
      JSON.stringify(entry.offsets),
      this.snapshotVersion,
    );
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private metaNumber(key: string): number {
    const v = this.s.getMeta.get(key) as string | undefined;
    return v === undefined ? 0 : Number(v);
  }
}
