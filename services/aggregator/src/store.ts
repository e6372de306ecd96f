import type Database from 'better-sqlite3';
import type { EnrichedBooking, EnrichedBookingChange } from '@cdc/core';
import type { BatchDelta, MovieState, StateSource } from './apply';
import { OpenBatch, type BatchCommit } from './batch';
import { openWritable } from './db-schema';
import { COUNTER_COLUMNS, countersFromRow, kpiRow, type MovieKpiRow, type StoredBooking } from './kpi';

/**
 * The SQLite edge: current rows, movie_kpis, reference counts, applied offsets, batch history
 * and the gold snapshot counters, all written in one transaction per batch (prepared statements).
 * Single writer: the process holding the database lock (see lock.ts).
 */
export interface BatchRecord {
  offset: number;
  /** null when the record could not be decoded: its offset is consumed, nothing is applied. */
  change: EnrichedBookingChange | null;
}

export interface BatchInput {
  topic: string;
  partition: number;
  records: BatchRecord[];
  /** Next offset to read after this batch (last offset of the batch, control records included, + 1). */
  nextOffset: number;
}

export interface BatchResult {
  batchId: number;
  changes: number;
  applied: number;
  skipped: number;
  malformed: number;
  undecodable: number;
  /** Records below the stored offset (already applied by an earlier batch): ignored. */
  alreadyApplied: number;
  durationMs: number;
  maxEventTsMs: number;
  /** Every changed movie's new row, each with its new snapshot_version. */
  movies: MovieKpiRow[];
  nextOffset: number;
}

export interface PartitionOffset {
  topic: string;
  partition: number;
  nextOffset: number;
}

const BOOKING_COLUMNS = [
  'booking_id',
  'version',
  'deleted',
  'movie_id',
  'customer_id',
  'booking_date',
  'booking_date_only',
  'booking_hour',
  'day_of_week',
  'status',
  'ticket_count',
  'ticket_price_cents',
  'total_amount_cents',
  'active_revenue_cents',
  'lost_revenue_cents',
  'booking_status_category',
  'booking_size_category',
  'price_category',
  'is_valid_booking',
  'validation_errors',
  'created_at',
  'updated_at',
  'event_id',
  'event_ts_ms',
];
const KPI_COLUMNS = [
  'movie_key',
  'movie_id',
  ...COUNTER_COLUMNS,
  'data_quality_score',
  'cancellation_rate_percent',
  'active_rate_percent',
  'avg_revenue_per_active_booking_cents',
  'updated_at',
  'snapshot_version',
];
const STORED_BOOKING_SELECT = `SELECT version, deleted, movie_id, status, booking_status_category,
  booking_size_category, price_category, is_valid_booking, ticket_count, total_amount_cents,
  active_revenue_cents, lost_revenue_cents, booking_date_only, booking_hour FROM bookings WHERE booking_id = ?`;
const insertSql = (table: string, cols: readonly string[]): string =>
  `INSERT OR REPLACE INTO ${table} (${cols.join(', ')}) VALUES (${cols.map((c) => '@' + c).join(', ')})`;

/** INSERT … ON CONFLICT DO UPDATE (an in-place update: no delete + insert as with REPLACE), positional. */
const upsertSql = (table: string, cols: readonly string[], key: string): string =>
  `INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')}) ` +
  `ON CONFLICT (${key}) DO UPDATE SET ${cols
    .filter((c) => c !== key)
    .map((c) => `${c} = excluded.${c}`)
    .join(', ')}`;

const HISTORY_KEEP = 10_000;
/** SQLite page cache of the writer (KiB): the bookings table's hot part stays in memory. */
const CACHE_KIB = 128 * 1024;
const DEFAULT_BOOKING_CACHE = 250_000;

export class AggregatorStore {
  readonly source: StateSource;
  private readonly s;
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
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      booking: p(STORED_BOOKING_SELECT),
      movie: p('SELECT * FROM movie_kpis WHERE movie_key = ?'),
      days: p('SELECT booking_date_only, n FROM movie_day_counts WHERE movie_key = ?').raw(),
      hours: p('SELECT booking_hour, n FROM movie_hour_counts WHERE movie_key = ?').raw(),
      putBooking: p(upsertSql('bookings', BOOKING_COLUMNS, 'booking_id')),
      insertBooking: p(
        `INSERT INTO bookings (${BOOKING_COLUMNS.join(', ')}) VALUES (${BOOKING_COLUMNS.map(() => '?').join(', ')})`,
      ),
      putMovie: p(insertSql('movie_kpis', KPI_COLUMNS)),
      putDay: p('INSERT OR REPLACE INTO movie_day_counts (movie_key, booking_date_only, n) VALUES (?, ?, ?)'),
      delDay: p('DELETE FROM movie_day_counts WHERE movie_key = ? AND booking_date_only = ?'),
      putHour: p('INSERT OR REPLACE INTO movie_hour_counts (movie_key, booking_hour, n) VALUES (?, ?, ?)'),
      delHour: p('DELETE FROM movie_hour_counts WHERE movie_key = ? AND booking_hour = ?'),
      offset: p('SELECT next_offset FROM applied_offsets WHERE topic = ? AND partition = ?').pluck(),
      offsets: p('SELECT partition, next_offset FROM applied_offsets WHERE topic = ?'),
      putOffset: p('INSERT OR REPLACE INTO applied_offsets (topic, partition, next_offset) VALUES (?, ?, ?)'),
      history:
        p(`INSERT INTO batch_history (started_at, duration_ms, changes, applied, skipped, movies_changed,
        offsets, snapshot_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
      pruneHistory: p('DELETE FROM batch_history WHERE id <= ?'),
      getMeta: p('SELECT value FROM meta WHERE key = ?').pluck(),
      putMeta: p('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)'),
      pending: p('SELECT * FROM movie_kpis WHERE snapshot_version > ? ORDER BY snapshot_version'),
    };
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
   * `emptyDatabase`: plain inserts (a rebuild writes into a fresh database).
   */
  writeDelta(
    delta: BatchDelta,
    now: number,
    offsets: PartitionOffset[],
    options: { emptyDatabase?: boolean } = {},
  ): MovieKpiRow[] {
    const s = this.s;
    const put = options.emptyDatabase ? s.insertBooking : s.putBooking;
    for (const row of delta.bookings) {
      const b = row.image as EnrichedBooking;
      put.run(
        b.booking_id,
        row.version,
        row.deleted,
        b.movie_id,
        b.customer_id,
        b.booking_date,
        b.booking_date_only,
        b.booking_hour,
        b.day_of_week,
        b.status,
        b.ticket_count,
        b.ticket_price,
        b.total_amount,
        b.active_revenue,
        b.lost_revenue,
        b.booking_status_category,
        b.booking_size_category,
        b.price_category,
        row.is_valid_booking,
        JSON.stringify(b.validation_errors),
        b.created_at,
        b.updated_at,
        row.event_id,
        row.event_ts_ms,
      );
      row.image = undefined; // the cache keeps the KPI fields only
      row.event_id = undefined;
      this.cacheBooking(b.booking_id, row);
    }
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
