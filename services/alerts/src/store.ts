import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { CdcError, type Alert } from '@cdc/core';
import type { EngineState } from './engine/state';

/**
 * The service's own SQLite file (not the aggregator's read model):
 * - `engine_state`: the engine's whole state as one JSON document (alerts pending and firing,
 *   counters, baselines), saved with every transition, and every checkpoint interval when it changed;
 * - `transitions`: every alert transition, once (unique per alert and status);
 * - `deliveries`: the outbox, one row per transition and destination (the alerts topic, each
 *   webhook), until it is delivered.
 * A transition, the state that produced it and its deliveries are written in one transaction,
 * so a restart neither forgets a firing alert nor notifies a transition twice; what was not
 * delivered before a stop is delivered after the restart.
 */
export const SCHEMA_VERSION = 1;

export interface PendingDelivery {
  transitionId: number;
  destination: string;
  attempts: number;
  nextAttemptAt: number;
  record: Alert;
}

export class AlertStore {
  private constructor(private readonly db: Database.Database) {}

  static open(file: string): AlertStore {
    mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    let db: Database.Database;
    try {
      db = new Database(file);
    } catch (err) {
      throw new CdcError(
        'DEPENDENCY_FAILED',
        `cannot open the alerts database ${file}: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec(`
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS engine_state (id INTEGER PRIMARY KEY CHECK (id = 1), state TEXT NOT NULL, saved_at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS transitions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        alert_id TEXT NOT NULL,
        status TEXT NOT NULL,
        record TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        UNIQUE (alert_id, status)
      );
      CREATE TABLE IF NOT EXISTS deliveries (
        transition_id INTEGER NOT NULL REFERENCES transitions (id),
        destination TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL DEFAULT 0,
        delivered_at INTEGER,
        last_error TEXT,
        PRIMARY KEY (transition_id, destination)
      );
      CREATE INDEX IF NOT EXISTS deliveries_pending ON deliveries (destination, delivered_at, transition_id);
    `);
    const version = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get() as
      string | undefined;
    if (version === undefined) {
      db.prepare("INSERT INTO meta (key, value) VALUES ('schema_version', ?)").run(String(SCHEMA_VERSION));
    } else if (Number(version) !== SCHEMA_VERSION) {
      db.close();
      throw new CdcError(
        'STORED_STATE_INVALID',
        `${file} has schema version ${version}; this version of cdc alerts reads ${SCHEMA_VERSION} (move the file away to start afresh)`,
      );
    }
    return new AlertStore(db);
  }

  loadState(): EngineState | null {
    const text = this.db.prepare('SELECT state FROM engine_state WHERE id = 1').pluck().get() as
      string | undefined;
    return text === undefined ? null : (JSON.parse(text) as EngineState);
  }

  /** Saves the engine state, and the new transitions with a delivery to each destination, at once. */
  save(state: EngineState, transitions: Alert[], destinations: readonly string[], nowMs: number): number[] {
    const ids: number[] = [];
    const insert = this.db.prepare(
      'INSERT OR IGNORE INTO transitions (alert_id, status, record, created_at) VALUES (?, ?, ?, ?)',
    );
    const deliver = this.db.prepare(
      'INSERT OR IGNORE INTO deliveries (transition_id, destination) VALUES (?, ?)',
    );
    this.db.transaction(() => {
      this.db
        .prepare(
          'INSERT INTO engine_state (id, state, saved_at) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET state = excluded.state, saved_at = excluded.saved_at',
        )
        .run(JSON.stringify(state), nowMs);
      for (const t of transitions) {
        const r = insert.run(t.alert_id, t.status, JSON.stringify(t), nowMs);
        if (r.changes === 0) continue; // already recorded: never notified twice
        const id = Number(r.lastInsertRowid);
        ids.push(id);
        for (const d of destinations) deliver.run(id, d);
      }
    })();
    return ids;
  }

  /** The oldest undelivered transition for `destination` (deliveries keep their order). */
  nextDelivery(destination: string): PendingDelivery | null {
    const row = this.db
      .prepare(
        `SELECT d.transition_id AS id, d.attempts, d.next_attempt_at AS next, t.record
           FROM deliveries d JOIN transitions t ON t.id = d.transition_id
          WHERE d.destination = ? AND d.delivered_at IS NULL
          ORDER BY d.transition_id LIMIT 1`,
      )
      .get(destination) as { id: number; attempts: number; next: number; record: string } | undefined;
    return row
      ? {
          transitionId: row.id,
          destination,
          attempts: row.attempts,
          nextAttemptAt: row.next,
          record: JSON.parse(row.record) as Alert,
        }
      : null;
  }

  delivered(d: PendingDelivery, nowMs: number): void {
    this.db
      .prepare(
        'UPDATE deliveries SET delivered_at = ?, attempts = attempts + 1, last_error = NULL WHERE transition_id = ? AND destination = ?',
      )
      .run(nowMs, d.transitionId, d.destination);
  }

  failed(d: PendingDelivery, error: string, nextAttemptAt: number): void {
    this.db
      .prepare(
        'UPDATE deliveries SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE transition_id = ? AND destination = ?',
      )
      .run(nextAttemptAt, error.slice(0, 500), d.transitionId, d.destination);
  }

  /** Undelivered rows per destination. */
  backlog(): Map<string, number> {
    const rows = this.db
      .prepare(
        'SELECT destination, COUNT(*) AS n FROM deliveries WHERE delivered_at IS NULL GROUP BY destination',
      )
      .all() as { destination: string; n: number }[];
    return new Map(rows.map((r) => [r.destination, r.n]));
  }

  /** Drops undelivered rows for destinations no longer configured; returns how many per destination. */
  dropUnconfigured(destinations: readonly string[]): Map<string, number> {
    const gone = new Map([...this.backlog()].filter(([d]) => !destinations.includes(d)));
    const del = this.db.prepare('DELETE FROM deliveries WHERE destination = ? AND delivered_at IS NULL');
    this.db.transaction(() => {
      for (const d of gone.keys()) del.run(d);
    })();
    return gone;
  }

  /** The newest transitions, newest first (for `cdc alerts --list` and tests). */
  history(limit = 100): Alert[] {
    return (
      this.db
        .prepare('SELECT record FROM transitions ORDER BY id DESC LIMIT ?')
        .pluck()
        .all(limit) as string[]
    ).map((r) => JSON.parse(r) as Alert);
  }

  close(): void {
    this.db.close();
  }
}

/** The destination name of a webhook in the outbox. */
export const webhookDestination = (url: string): string => `webhook:${url}`;
export const KAFKA_DESTINATION = 'kafka';
/** The destination name of an Alertmanager in the outbox. */
export const alertmanagerDestination = (url: string): string => `alertmanager:${url}`;
