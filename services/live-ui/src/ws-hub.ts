import { WebSocket, type RawData } from 'ws';
import type { Logger } from '@cdc/core';
import type { GoldState } from './gold-state';
import type { LiveUiMetrics } from './metrics';
import {
  backpressure,
  changesMessage,
  heartbeatMessage,
  parseClientMessage,
  snapshotMessage,
  type Freshness,
} from './protocol';
import type { WsQuery } from './query';
import type { ChangeBatch, VersionLog } from './version-log';

/** A text frame's payload (ws hands over a Buffer, an ArrayBuffer or a fragment list). */
const rawText = (data: RawData): string =>
  Array.isArray(data)
    ? Buffer.concat(data).toString()
    : Buffer.isBuffer(data)
      ? data.toString()
      : Buffer.from(data).toString();

/**
 * The websocket clients (accepted by ws-route.ts, which checks Origin, the query and the client
 * limit first): each gets a snapshot or what it missed, then every change batch. Heartbeats: a ping every
 * interval (a client that did not answer the previous one is terminated) and a heartbeat message
 * browsers can watch. Backpressure: a client with more than maxBufferedBytes unsent is skipped
 * and later caught up in one merged message (or a snapshot); one that stays slow is dropped.
 */
export const WS_PATH = '/ws';

interface Client {
  ws: WebSocket;
  /** The version the client holds; null until its first message was sent. */
  sentVersion: number | null;
  request: WsQuery;
  alive: boolean;
  slowSinceMs: number;
}

export interface WsHubOptions {
  epoch: string;
  log: VersionLog;
  state: GoldState;
  isReady: () => boolean;
  freshness: () => Freshness;
  maxBufferedBytes: number;
  slowClientTimeoutMs: number;
  heartbeatMs: number;
  maxClients: number;
  metrics: LiveUiMetrics;
  logger: Logger;
  /** The current `alerts` message, sent after a client's first message (none: no alerts feed). */
  alerts?: () => string;
}

export interface WsHub {
  /** Takes over an accepted websocket that asked for `request` (resume or not). */
  accept(ws: WebSocket, request: WsQuery): void;
  /** Pushes a new batch to every client (catching up those that are behind). */
  publish(batch: ChangeBatch): void;
  /** Sends the first message to clients that connected before the initial gold read finished. */
  flushWaiting(): void;
  /** Sends the current `alerts` message to every client that has had its first message. */
  publishAlerts(): void;
  clientCount(): number;
  close(): Promise<void>;
}

export function createWsHub(o: WsHubOptions): WsHub {
  const clients = new Set<Client>();
  /** Resolves close() once the last client has gone. */
  let allClosed: (() => void) | null = null;
  /** A shared payload is encoded to bytes once and sent as a text frame to every client. */
  const send = (c: Client, payload: string | Buffer, type: string): void => {
    c.ws.send(payload, { binary: false });
    o.metrics.messagesPushed.inc({ type });
    o.metrics.bytesPushed.inc(payload.length);
  };

  const sendSnapshot = (c: Client): void => {
    send(
      c,
      snapshotMessage(o.epoch, o.log.version, o.state.snapshot(), o.freshness(), Date.now()),
      'snapshot',
    );
    c.sentVersion = o.log.version;
  };

  /** Brings a client from its version to the current one: merged changes, or a snapshot. */
  const catchUp = (c: Client): void => {
    if (c.sentVersion === o.log.version) return;
    const batch = c.sentVersion === null ? null : o.log.since(c.sentVersion);
    if (batch) {
      send(c, changesMessage(o.epoch, batch, o.freshness(), Date.now()), 'changes');
      c.sentVersion = batch.version;
    } else {
      sendSnapshot(c);
    }
  };

  const first = (c: Client): void => {
    const plan = o.log.plan(c.request, o.epoch);
    o.metrics.resumes.inc({ result: plan.kind === 'snapshot' ? `snapshot-${plan.reason}` : plan.kind });
    if (plan.kind === 'snapshot') sendSnapshot(c);
    else if (plan.kind === 'changes') {
      send(c, changesMessage(o.epoch, plan.batch, o.freshness(), Date.now()), 'changes');
      c.sentVersion = plan.batch.version;
    } else {
      send(c, heartbeatMessage(o.epoch, o.log.version, Date.now()), 'heartbeat');
      c.sentVersion = o.log.version;
    }
    if (o.alerts) send(c, o.alerts(), 'alerts');
  };

  /** False when the client is over its buffer limit (and drops it when that lasted too long). */
  const writable = (c: Client, now: number): boolean => {
    if (c.ws.readyState !== WebSocket.OPEN) return false;
    const b = backpressure(
      c.ws.bufferedAmount,
      o.maxBufferedBytes,
      c.slowSinceMs,
      now,
      o.slowClientTimeoutMs,
    );
    c.slowSinceMs = b.slowSinceMs;
    if (b.action === 'send') return true;
    o.metrics.slowClients.inc({ action: b.action === 'drop' ? 'dropped' : 'skipped' });
    if (b.action === 'drop') {
      o.logger.warn({ buffered: c.ws.bufferedAmount }, 'dropping a websocket client that does not keep up');
      c.ws.terminate();
    }
    return false;
  };

  let lagging = 0;
  const catchUpTimer = setInterval(() => {
    if (lagging === 0 || !o.isReady()) return;
    const now = Date.now();
    lagging = 0;
    for (const c of clients) {
      if (c.sentVersion === null || c.sentVersion === o.log.version) continue;
      if (writable(c, now)) catchUp(c);
      else lagging += 1;
    }
  }, 250);
  catchUpTimer.unref();

  const heartbeat = setInterval(() => {
    const now = Date.now();
    for (const c of clients) {
      if (!c.alive) {
        o.logger.debug('terminating a websocket client that missed a heartbeat');
        c.ws.terminate();
        continue;
      }
      c.alive = false;
      c.ws.ping();
      if (c.sentVersion !== null && writable(c, now)) {
        send(c, heartbeatMessage(o.epoch, c.sentVersion, now), 'heartbeat');
      }
    }
  }, o.heartbeatMs);
  heartbeat.unref();

  const onConnection = (ws: WebSocket, request: WsQuery): void => {
    const c: Client = { ws, sentVersion: null, request, alive: true, slowSinceMs: 0 };
    clients.add(c);
    o.metrics.clients.set(clients.size);
    ws.on('pong', () => {
      c.alive = true;
    });
    ws.on('message', (data: RawData, isBinary: boolean) => {
      c.alive = true;
      if (isBinary) return;
      const msg = parseClientMessage(rawText(data));
      if (msg?.type === 'resync' && o.isReady()) sendSnapshot(c);
    });
    ws.on('error', (err) => o.logger.debug({ err: err.message }, 'websocket client error'));
    ws.on('close', () => {
      clients.delete(c);
      o.metrics.clients.set(clients.size);
      if (clients.size === 0) allClosed?.();
    });
    if (o.isReady()) first(c);
  };

  return {
    accept: onConnection,

    publish(batch) {
      const now = Date.now();
      let shared: Buffer | null = null;
      for (const c of clients) {
        if (c.sentVersion === null) continue;
        if (!writable(c, now)) {
          lagging += 1;
          continue;
        }
        if (c.sentVersion === batch.from) {
          shared ??= Buffer.from(changesMessage(o.epoch, batch, o.freshness(), now));
          send(c, shared, 'changes');
          c.sentVersion = batch.version;
        } else {
          catchUp(c);
        }
      }
    },

    flushWaiting() {
      for (const c of clients) if (c.sentVersion === null) first(c);
    },

    publishAlerts() {
      if (!o.alerts) return;
      const payload = Buffer.from(o.alerts());
      for (const c of clients)
        if (c.sentVersion !== null && c.ws.readyState === WebSocket.OPEN) send(c, payload, 'alerts');
    },

    clientCount: () => clients.size,

    async close() {
      clearInterval(heartbeat);
      clearInterval(catchUpTimer);
      if (clients.size === 0) return;
      await new Promise<void>((resolve) => {
        allClosed = resolve;
        const t = setTimeout(() => {
          for (const c of clients) c.ws.terminate();
          resolve();
        }, 1000);
        t.unref();
        for (const c of clients) c.ws.close(1001, 'server shutting down');
      });
    },
  };
}
