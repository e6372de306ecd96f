import { Readable } from 'node:stream';
import { csvLine } from './csv';
import type { DbHandle } from './db';
import { BOOKING_COLUMNS, BOOKING_SELECT, type BookingRow } from './queries';
import { orderClause, whereClause, type CsvQuery } from './query';

/**
 * The filtered rows as a CSV stream, read from a separate read-only connection inside one read
 * transaction: a consistent snapshot even while the aggregator writes. The stream pulls rows only
 * as fast as the client takes them (64 KiB chunks), and releases the connection when it ends or
 * the client goes away. Opening the snapshot happens before the first byte, so a missing database
 * is still an ordinary error response (503).
 */
const CHUNK_CHARS = 64 * 1024;

export function bookingsCsvStream(db: DbHandle, q: CsvQuery): Readable {
  const w = whereClause(q);
  const conn = db.openExtra();
  let rows: IterableIterator<BookingRow> | null = null;
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    rows?.return?.();
    if (conn.inTransaction) conn.prepare('COMMIT').run();
    conn.close();
  };
  try {
    conn.prepare('BEGIN').run();
    rows = conn
      .prepare(`${BOOKING_SELECT} ${w.sql} ${orderClause(q.sort, q.order)}`)
      .iterate(...w.params) as IterableIterator<BookingRow>;
  } catch (err) {
    release();
    throw err;
  }
  const source = rows;
  function* chunks(): Generator<string> {
    let chunk = csvLine(BOOKING_COLUMNS);
    for (const row of source) {
      chunk += csvLine(BOOKING_COLUMNS.map((c) => row[c]));
      if (chunk.length >= CHUNK_CHARS) {
        yield chunk;
        chunk = '';
      }
    }
    if (chunk.length > 0) yield chunk;
  }
  const stream = Readable.from(chunks(), { objectMode: false });
  stream.once('close', release);
  return stream;
}
