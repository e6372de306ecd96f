import type { Alert } from '@cdc/core';
import { MOVIE_KPI_COLUMNS } from '@cdc/read-model';
import type { MovieRow } from './gold-state';
import type { ChangeBatch } from './version-log';

/**
 * The websocket protocol (server → browser, JSON text frames):
 *
 * - `snapshot`: every movie's KPIs at `version`; replaces whatever the client had.
 * - `changes`: the movies changed (and removed) from version `from` (exclusive) to `version`.
 *   A client applies it only when `from` equals the version it holds; otherwise it reconnects
 *   with `?since=<its version>&epoch=<epoch>` and gets exactly what it missed.
 * - `heartbeat`: sent every heartbeat interval so a browser can detect a dead connection.
 * - `alerts`: the alerts (from `cdc alerts`), firing and recently resolved, newest first; sent
 *   after the first message and whenever one changes. Replaces what the client had.
 *
 * Movies travel as a table (`columns` once, then one array of values per movie): the same data
 * as objects, a third of the bytes. `decodeMovies` turns it back into rows.
 *
 * `epoch` identifies one run of the server: versions from another run mean nothing, and a
 * client presenting them gets a snapshot. Browser → server: `{"type":"resync"}` asks for a
 * snapshot; anything larger than the payload limit closes the connection (1009).
 */
export interface Freshness {
  /** When the newest change reached this server (epoch ms; 0 = none yet). */
  lastChangeAtMs: number;
  /** Newest event time (`last_event_ts_ms`) among the movies. */
  lastEventTsMs: number;
  /** End-to-end lag of the newest pushed batch: push time - its newest event time. */
  e2eLagMs: number | null;
}

/** Columns of the movie table in messages: movie_kpis's (the client reads them by name). */
export const MOVIE_COLUMNS = MOVIE_KPI_COLUMNS satisfies readonly (keyof MovieRow)[];

export interface MovieTable {
  columns: readonly string[];
  rows: (string | number | null)[][];
}

export function encodeMovies(movies: readonly MovieRow[]): MovieTable {
  return { columns: MOVIE_COLUMNS, rows: movies.map((m) => MOVIE_COLUMNS.map((c) => m[c])) };
}

export function decodeMovies(table: MovieTable): MovieRow[] {
  return table.rows.map(
    (values) => Object.fromEntries(table.columns.map((c, i) => [c, values[i]])) as unknown as MovieRow,
  );
}

export interface SnapshotMessage extends Freshness {
  type: 'snapshot';
  epoch: string;
  version: number;
  movies: MovieTable;
  serverTime: number;
}

export interface ChangesMessage extends Freshness {
  type: 'changes';
  epoch: string;
  from: number;
  version: number;
  movies: MovieTable;
  removed: string[];
  maxEventTsMs: number;
  serverTime: number;
}

export interface HeartbeatMessage {
  type: 'heartbeat';
  epoch: string;
  version: number;
  serverTime: number;
}

export interface AlertsMessage {
  type: 'alerts';
  epoch: string;
  alerts: Alert[];
  serverTime: number;
}

export type ServerMessage = SnapshotMessage | ChangesMessage | HeartbeatMessage | AlertsMessage;

export function alertsMessage(epoch: string, alerts: Alert[], now: number): string {
  const m: AlertsMessage = { type: 'alerts', epoch, alerts, serverTime: now };
  return JSON.stringify(m);
}

export function snapshotMessage(
  epoch: string,
  version: number,
  movies: MovieRow[],
  fresh: Freshness,
  now: number,
): string {
  const m: SnapshotMessage = {
    type: 'snapshot',
    epoch,
    version,
    movies: encodeMovies(movies),
    serverTime: now,
    ...fresh,
  };
  return JSON.stringify(m);
}

export function changesMessage(epoch: string, batch: ChangeBatch, fresh: Freshness, now: number): string {
  const m: ChangesMessage = {
    type: 'changes',
    epoch,
    from: batch.from,
    version: batch.version,
    movies: encodeMovies(batch.movies),
    removed: batch.removed,
    maxEventTsMs: batch.maxEventTsMs,
    serverTime: now,
    ...fresh,
  };
  return JSON.stringify(m);
}

export function heartbeatMessage(epoch: string, version: number, now: number): string {
  const m: HeartbeatMessage = { type: 'heartbeat', epoch, version, serverTime: now };
  return JSON.stringify(m);
}

/** Parses a browser's message; only `{"type":"resync"}` means something. */
export function parseClientMessage(data: string): { type: 'resync' } | null {
  try {
    const v = JSON.parse(data) as unknown;
    if (typeof v === 'object' && v !== null && (v as { type?: unknown }).type === 'resync') {
      return { type: 'resync' };
    }
  } catch {
    // not JSON: ignored
  }
  return null;
}

/**
 * Cross-site websocket hijacking guard: a browser always sends Origin, and only the allowed
 * ones may connect. A request without Origin does not come from a web page (a CLI or test
 * client) and is let through. Origins compare case-insensitively, without a trailing slash.
 */
export function originAllowed(origin: string | undefined, allowed: readonly string[]): boolean {
  if (origin === undefined) return true;
  const norm = (o: string) => o.trim().replace(/\/+$/, '').toLowerCase();
  const o = norm(origin);
  return allowed.some((a) => norm(a) === o);
}

/**
 * Per-client backpressure: under the limit, send; over it, skip (the client is caught up later in
 * one merged message) and remember since when; over it for longer than `timeoutMs`, drop.
 */
export function backpressure(
  bufferedBytes: number,
  limitBytes: number,
  slowSinceMs: number,
  nowMs: number,
  timeoutMs: number,
): { action: 'send' | 'skip' | 'drop'; slowSinceMs: number } {
  if (bufferedBytes <= limitBytes) return { action: 'send', slowSinceMs: 0 };
  const since = slowSinceMs === 0 ? nowMs : slowSinceMs;
  return { action: nowMs - since > timeoutMs ? 'drop' : 'skip', slowSinceMs: since };
}
