import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { errorMessage } from '@cdc/core';
import { applySchema, ReadModelWriter, type KpiDelta, type PartitionOffset } from '@cdc/read-model';
import type { BatchDelta } from '../apply';

/**
 * The rebuild's writer thread: creates the new database file (journal off, no secondary indexes
 * during the load), inserts the final booking rows as they arrive (`bookingValues` arrays, in
 * booking_id order), then the KPIs, offsets and history, commits, builds the indexes and switches
 * the file to WAL. It runs beside the main thread, which decodes the final changes and computes
 * the KPIs meanwhile. Protocol: rows*, then finish → done; any failure → failed.
 */
export interface WriterData {
  file: string;
}

export interface WriterFinish {
  /** The replay's delta without bookings (they came as rows). */
  delta: KpiDelta & Pick<BatchDelta, 'applied' | 'skipped' | 'rederived'>;
  now: number;
  offsets: PartitionOffset[];
  baseSnapshotVersion: number;
  history: {
    startedAt: number;
    durationMs: number;
    changes: number;
    offsets: unknown;
  };
}

export type ToWriter = { type: 'rows'; rows: unknown[][] } | ({ type: 'finish' } & WriterFinish);
export type FromWriter = { type: 'done'; movies: number } | { type: 'failed'; error: string };

const port = parentPort!;
const { file } = workerData as WriterData;
const post = (m: FromWriter): void => port.postMessage(m);

let db: Database.Database | undefined;
try {
  db = new Database(file);
  db.pragma('journal_mode = OFF');
  db.pragma('synchronous = OFF');
  applySchema(db);
  const indexes = db
    .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
    .all() as { name: string; sql: string }[];
  for (const ix of indexes) db.exec(`DROP INDEX "${ix.name}"`);
  const writer = new ReadModelWriter(db, { bookingCacheSize: 0, bookingFilter: false });
  db.exec('BEGIN');
  port.on('message', (m: ToWriter) => {
    try {
      if (m.type === 'rows') {
        for (const values of m.rows) writer.insertBookingValues(values);
        return;
      }
      const open = db as Database.Database;
      writer.setSnapshotVersions(m.baseSnapshotVersion, m.baseSnapshotVersion);
      const movies = writer.writeDelta(m.delta, m.now, m.offsets);
      writer.recordHistory({
        ...m.history,
        applied: m.delta.applied,
        skipped: m.delta.skipped,
        rederived: m.delta.rederived,
        movies: movies.length,
      });
      open.exec('COMMIT');
      for (const ix of indexes) open.exec(ix.sql);
      open.pragma('journal_mode = WAL');
      open.close();
      post({ type: 'done', movies: movies.length });
      port.close();
    } catch (err) {
      fail(err);
    }
  });
} catch (err) {
  fail(err);
}

function fail(err: unknown): void {
  if (db?.open) db.close();
  post({ type: 'failed', error: errorMessage(err) });
  port.close();
}
