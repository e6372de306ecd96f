import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type avro from 'avsc';
import Database from 'better-sqlite3';
import { createIdFilter, loadSchema, type Booking } from '@cdc/core';
import type { ImportedBooking } from './rows';

/**
 * What bronze holds per booking, for the import to continue it: the newest version and the image
 * it left (the `after` of a create, update or snapshot read; the `before` of a delete, marked
 * deleted). Kept in a temporary SQLite file keyed by booking_id, not in memory, so neither a big
 * topic nor a big input needs the memory to hold every booking: each entry is the Avro encoding of
 * the image (about 70 bytes). The file is deleted when the store is closed.
 */
export interface BookingState {
  /** The version of the newest change: after.version, or before.version + 1 for a delete. */
  version: number;
  deleted: boolean;
  image: ImportedBooking;
  /** Whether bronze held the booking before this import (else an earlier row of the input made it). */
  inBronze: boolean;
}

export interface StateStore {
  get(bookingId: string): BookingState | undefined;
  /** The states of several bookings at once (much cheaper per booking than `get`). */
  getMany(bookingIds: readonly string[]): Map<string, BookingState>;
  /** Sets several states at once (the import's own newest changes). */
  setMany(entries: readonly (readonly [string, BookingState])[]): void;
  /** Keeps `state` unless the store has a newer version for the booking. */
  offer(bookingId: string, state: BookingState): void;
  /** Sets the state (the import's own newest change). */
  set(bookingId: string, state: BookingState): void;
  /** Runs `fn` in one SQLite transaction (much faster for many writes). */
  batch<T>(fn: () => T): T;
  readonly size: number;
  close(): void;
}

/** The Avro type of a Booking image (from BookingChange's `after`). */
function bookingType(): avro.Type {
  const change = loadSchema('BookingChange').type as avro.types.RecordType;
  const union = change.field('after').type as avro.types.UnwrappedUnionType;
  return union.types.find((t: avro.Type) => t.typeName === 'record')!;
}

export function createStateStore(dir: string = os.tmpdir()): StateStore {
  const tmp = mkdtempSync(path.join(dir, 'cdc-import-'));
  const db = new Database(path.join(tmp, 'state.db'));
  // Scratch data rebuilt by every run: no journal, no fsync.
  db.pragma('journal_mode = OFF');
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -65536'); // 64 MiB
  db.exec(
    'CREATE TABLE state (booking_id TEXT PRIMARY KEY, version INTEGER NOT NULL, deleted INTEGER NOT NULL, in_bronze INTEGER NOT NULL, image BLOB NOT NULL) WITHOUT ROWID',
  );
  const type = bookingType();
  const select = db.prepare<[string], { version: number; deleted: number; in_bronze: number; image: Buffer }>(
    'SELECT version, deleted, in_bronze, image FROM state WHERE booking_id = ?',
  );
  const upsertNewer = db.prepare(
    `INSERT INTO state (booking_id, version, deleted, in_bronze, image) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (booking_id) DO UPDATE SET version = excluded.version, deleted = excluded.deleted, in_bronze = excluded.in_bronze, image = excluded.image
     WHERE excluded.version >= state.version`,
  );
  const replace = db.prepare(
    'INSERT OR REPLACE INTO state (booking_id, version, deleted, in_bronze, image) VALUES (?, ?, ?, ?, ?)',
  );
  const count = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM state');
  // An image that already carries its version (the import's own `after`) is encoded as it is.
  const encode = (s: BookingState): Buffer => {
    const image = s.image as ImportedBooking & { version?: number };
    return type.toBuffer(image.version === s.version ? image : { ...s.image, version: s.version });
  };
  const decode = (row: {
    version: number;
    deleted: number;
    in_bronze: number;
    image: Buffer;
  }): BookingState => {
    const { version: _v, ...image } = type.fromBuffer(row.image) as Booking;
    return { version: row.version, deleted: row.deleted === 1, inBronze: row.in_bronze === 1, image };
  };
  // Statements over many rows at once: one call per SELECT_CHUNK ids, per INSERT_CHUNK rows.
  const SELECT_CHUNK = 500;
  const INSERT_CHUNK = 100;
  const selectMany = db.prepare<
    string[],
    { booking_id: string; version: number; deleted: number; in_bronze: number; image: Buffer }
  >(
    `SELECT booking_id, version, deleted, in_bronze, image FROM state WHERE booking_id IN (${Array(SELECT_CHUNK).fill('?').join(',')})`,
  );
  const replaceMany = db.prepare(
    `INSERT OR REPLACE INTO state (booking_id, version, deleted, in_bronze, image) VALUES ${Array(INSERT_CHUNK).fill('(?, ?, ?, ?, ?)').join(', ')}`,
  );
  const empty = (n: number): string[] => Array<string>(n).fill('');
  let size = 0;
  let sizeKnown = true;
  let written = false;
  // Which ids may be stored: look-ups skip the rest (most rows of a first import).
  const ids = createIdFilter();

  return {
    get(bookingId) {
      if (!ids.mayHave(bookingId)) return undefined;
      const row = select.get(bookingId);
      return row === undefined ? undefined : decode(row);
    },
    getMany(bookingIds) {
      const out = new Map<string, BookingState>();
      if (!written) return out; // nothing stored yet: a first import into an empty bronze
      const maybe = bookingIds.filter((id) => ids.mayHave(id));
      for (let i = 0; i < maybe.length; i += SELECT_CHUNK) {
        const chunk = maybe.slice(i, i + SELECT_CHUNK);
        // Padding with '' (never a booking id: a row without one is rejected) keeps one statement.
        const rows = selectMany.all(...chunk, ...empty(SELECT_CHUNK - chunk.length));
        for (const row of rows) out.set(row.booking_id, decode(row));
      }
      return out;
    },
    setMany(entries) {
      let i = 0;
      for (; i + INSERT_CHUNK <= entries.length; i += INSERT_CHUNK) {
        const params: unknown[] = [];
        for (let j = i; j < i + INSERT_CHUNK; j++) {
          const [id, s] = entries[j]!;
          params.push(id, s.version, s.deleted ? 1 : 0, s.inBronze ? 1 : 0, encode(s));
          ids.add(id);
        }
        replaceMany.run(params);
      }
      for (; i < entries.length; i++) {
        const [id, s] = entries[i]!;
        replace.run(id, s.version, s.deleted ? 1 : 0, s.inBronze ? 1 : 0, encode(s));
        ids.add(id);
      }
      if (entries.length > 0) {
        sizeKnown = false;
        written = true;
      }
    },
    offer(bookingId, state) {
      upsertNewer.run(bookingId, state.version, state.deleted ? 1 : 0, state.inBronze ? 1 : 0, encode(state));
      ids.add(bookingId);
      sizeKnown = false;
      written = true;
    },
    set(bookingId, state) {
      replace.run(bookingId, state.version, state.deleted ? 1 : 0, state.inBronze ? 1 : 0, encode(state));
      ids.add(bookingId);
      sizeKnown = false;
      written = true;
    },
    batch: (fn) => db.transaction(fn)(),
    get size() {
      if (!sizeKnown) {
        size = count.get()!.n;
        sizeKnown = true;
      }
      return size;
    },
    close() {
      db.close();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}
