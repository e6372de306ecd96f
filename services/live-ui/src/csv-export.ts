import { Readable } from 'node:stream';
import { BOOKING_ROW_COLUMNS, exportBookings, type DbHandle } from '@cdc/read-model';
import { csvLine } from './csv';
import type { CsvQuery } from './query';
/**
 * The filtered rows as a CSV stream, read from a separate read-only connection inside one read
 * transaction: a consistent snapshot even while the aggregator writes. The stream pulls rows only
 * as fast as the client takes them (64 KiB chunks), and releases the connection when it ends or
 * the client goes away. Opening the snapshot happens before the first byte, so a missing database
 * is still an ordinary error response (503).
 */
const CHUNK_CHARS = 64 * 1024;

export function bookingsCsvStream(db: DbHandle, q: CsvQuery): Readable {
  const snapshot = exportBookings(db, q);
  const rows = snapshot.rows;
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    snapshot.close();
  };
  function* chunks(): Generator<string> {
    let chunk = csvLine(BOOKING_ROW_COLUMNS);
    for (const row of rows) {
      chunk += csvLine(BOOKING_ROW_COLUMNS.map((c) => row[c]));
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
