import { statSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { errorMessage, UnavailableError, type Logger } from '@cdc/core';
import { openReadOnly } from '../schema';

/**
 * The database, opened read-only and lazily: a reader (the UI) starts before the aggregator has
 * created it. When the file is replaced (the aggregator's `--rebuild` swaps a new database in),
 * the next query reopens it. Statements are prepared once per connection.
 */
export class DbUnavailableError extends UnavailableError {
  constructor(message: string, cause?: unknown) {
    super('database', message, cause);
  }
}

/** What the read queries need of a connection: a (cached) prepared statement. */
export interface SqlSource {
  prepare(sql: string): Database.Statement;
}

export interface DbHandle extends SqlSource {
  /** The open connection, or throws DbUnavailableError (the API answers 503). */
  get(): Database.Database;
  /** A statement prepared on the current connection (cached by SQL text). */
  prepare(sql: string): Database.Statement;
  /** A separate read-only connection (for long exports); the caller closes it. */
  openExtra(): Database.Database;
  readonly path: string;
  close(): void;
}

const RECHECK_MS = 500;
const MAX_CACHED_STATEMENTS = 256;

export function createDbHandle(file: string, logger: Logger): DbHandle {
  let db: Database.Database | null = null;
  let inode = -1;
  let checkedAt = 0;
  let statements = new Map<string, Database.Statement>();

  const currentInode = (): number => {
    try {
      return statSync(file).ino;
    } catch {
      return -1;
    }
  };

  function open(): Database.Database {
    const ino = currentInode();
    if (ino < 0) {
      throw new DbUnavailableError(
        `the aggregator database ${file} does not exist yet (start the aggregator, or set --db / AGGREGATOR_DB_PATH)`,
      );
    }
    try {
      const next = openReadOnly(file);
      next.prepare('SELECT 1 FROM bookings LIMIT 1').get();
      db = next;
      inode = ino;
      statements = new Map();
      logger.info({ file }, 'opened the aggregator database read-only');
      return next;
    } catch (err) {
      throw new DbUnavailableError(
        `the aggregator database ${file} cannot be read: ${errorMessage(err)}`,
        err,
      );
    }
  }

  function get(): Database.Database {
    const now = Date.now();
    if (db && now - checkedAt >= RECHECK_MS) {
      checkedAt = now;
      const ino = currentInode();
      if (ino !== inode) {
        logger.info({ file }, 'the aggregator database was replaced; reopening');
        db.close();
        db = null;
      }
    }
    return db ?? open();
  }

  return {
    path: file,
    get,
    prepare(sql) {
      const conn = get();
      let stmt = statements.get(sql);
      if (!stmt) {
        if (statements.size >= MAX_CACHED_STATEMENTS) statements.clear();
        stmt = conn.prepare(sql);
        statements.set(sql, stmt);
      }
      return stmt;
    },
    openExtra() {
      get();
      return openReadOnly(file);
    },
    close() {
      db?.close();
      db = null;
    },
  };
}
