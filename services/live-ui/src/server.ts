import { randomBytes } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createKafka,
  createMetricsRegistry,
  createRegistryClient,
  errorMessage,
  topicNames,
  type ConnectionConfig,
  type Logger,
} from '@cdc/core';
import { createDbHandle, DbUnavailableError } from '@cdc/read-model';
import { apiRoutes } from './api';
import { ownOrigins, type LiveUiConfig } from './config';
import { startGoldConsumer, type GoldConsumer } from './gold-consumer';
import { GoldState } from './gold-state';
import { startHealthPoller, type HealthPoller } from './health';
import { HttpError, Router, sendJson, sendText } from './http-util';
import { createLiveUiMetrics } from './metrics';
import type { Freshness } from './protocol';
import { CSP, loadStaticFiles } from './static-files';
import { VersionLog } from './version-log';
import { createWsHub, WS_PATH } from './ws-hub';

/**
 * The live UI server: the dashboard's static files, the JSON/CSV API over the aggregator's
 * SQLite (read-only), /healthz and /metrics, and the websocket that pushes gold KPI changes.
 */
export interface LiveUiServer {
  readonly port: number;
  readonly url: string;
  readonly epoch: string;
  readonly allowedOrigins: readonly string[];
  /** Resolves once the gold topic has been read to its end as of start. */
  readonly ready: Promise<void>;
  stop(): Promise<void>;
}

export async function startLiveUi(o: {
  config: LiveUiConfig;
  connection: ConnectionConfig;
  logger: Logger;
}): Promise<LiveUiServer> {
  const { config, logger } = o;
  const registry = createMetricsRegistry('live-ui');
  const metrics = createLiveUiMetrics(registry);
  const db = createDbHandle(config.dbPath, logger);
  const state = new GoldState();
  const log = new VersionLog(config.versionLogBatches, config.versionLogEntries);
  const epoch = randomBytes(6).toString('hex');
  const files = loadStaticFiles();
  const topics = topicNames(o.connection.topicPrefix);
  let allowedOrigins: string[] = config.allowedOrigins;
  let ready = false;
  let lastPushLagMs: number | null = null;

  const freshness = (): Freshness => ({
    lastChangeAtMs: state.lastChangeAtMs,
    lastEventTsMs: state.lastEventTsMs,
    e2eLagMs: lastPushLagMs ?? state.lastApplyLagMs,
  });

  const hub = createWsHub({
    epoch,
    log,
    state,
    allowedOrigins: () => allowedOrigins,
    isReady: () => ready,
    freshness,
    maxPayloadBytes: config.maxPayloadBytes,
    maxBufferedBytes: config.maxBufferedBytes,
    slowClientTimeoutMs: config.slowClientTimeoutMs,
    heartbeatMs: config.heartbeatMs,
    maxClients: config.maxClients,
    metrics,
    logger,
  });

  let gold: GoldConsumer | null = null;
  let health: HealthPoller | null = null;

  const live = () => ({
    epoch,
    ws_path: WS_PATH,
    heartbeat_ms: config.heartbeatMs,
    coalesce_ms: config.coalesceMs,
    currency_symbol: config.currencySymbol,
  });
  const healthBody = () => {
    const now = Date.now();
    const f = freshness();
    return {
      ok: ready,
      ready,
      epoch,
      version: log.version,
      clients: hub.clientCount(),
      movies: state.size,
      data_quality_score: state.dataQualityScore(),
      last_change_at: f.lastChangeAtMs || null,
      since_last_change_ms: f.lastChangeAtMs ? Math.max(0, now - f.lastChangeAtMs) : null,
      last_event_ts_ms: f.lastEventTsMs || null,
      e2e_lag_ms: f.e2eLagMs,
      ...(health?.current() ?? { stages: [], dead_letters: null, aggregator_last_batch: null, errors: [] }),
      server_time: now,
    };
  };

  const router = apiRoutes(new Router(), { db, logger, live, health: healthBody })
    .get('/healthz', 'healthz', (_req, res) => {
      let dbOk = true;
      try {
        db.get();
      } catch {
        dbOk = false;
      }
      sendJson(res, ready ? 200 : 503, {
        ok: ready,
        gold_ready: ready,
        db_available: dbOk,
        clients: hub.clientCount(),
        version: log.version,
      });
    })
    .get('/metrics', 'metrics', async (_req, res) => {
      sendText(res, 200, await registry.metrics(), registry.contentType);
    });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let routeName = 'unknown';
    try {
      let url: URL;
      try {
        url = new URL(req.url ?? '/', 'http://localhost');
      } catch {
        throw new HttpError(400, 'malformed request URL');
      }
      const route = router.match(url.pathname);
      const file = route ? undefined : files.get(url.pathname);
      if (route) routeName = route.name;
      else if (file) routeName = 'static';
      if ((route || file) && req.method !== 'GET' && req.method !== 'HEAD') {
        res.setHeader('allow', 'GET, HEAD');
        throw new HttpError(405, `method ${req.method ?? ''} not allowed; use GET`);
      }
      if (route) {
        await route.handler(req, res, url);
      } else if (file) {
        if (url.search !== '') throw new HttpError(400, 'static files take no query parameters');
        const headers: Record<string, string> = { etag: file.etag, 'cache-control': 'no-cache' };
        if (file.contentType.startsWith('text/html')) headers['content-security-policy'] = CSP;
        if (req.headers['if-none-match'] === file.etag) {
          res.writeHead(304, headers);
          res.end();
        } else {
          sendText(res, 200, file.body, file.contentType, headers);
        }
      } else {
        throw new HttpError(404, `no such resource: ${url.pathname}`);
      }
    } catch (err) {
      if (res.headersSent) {
        logger.warn({ err: errorMessage(err), route: routeName }, 'response failed after headers were sent');
        res.destroy();
      } else if (err instanceof HttpError) {
        sendJson(res, err.status, { error: err.message });
      } else if (err instanceof DbUnavailableError) {
        sendJson(res, 503, { error: err.message });
      } else {
        logger.error({ err: errorMessage(err), route: routeName }, 'request failed');
        sendJson(res, 500, { error: 'internal error' });
      }
    } finally {
      metrics.httpRequests.inc({ route: routeName, status: String(res.statusCode) });
    }
  }

  const server = http.createServer((req, res) => void handle(req, res));
  server.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => hub.handleUpgrade(req, socket, head));
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  if (allowedOrigins.length === 0) allowedOrigins = ownOrigins(config.host, port);
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;

  // Coalescing: at most one push per coalesceMs; the first change after a quiet period goes at
  // once (after the Kafka batch that brought it), later ones wait for the window to end.
  let flushTimer: NodeJS.Timeout | null = null;
  let lastFlushAtMs = 0;
  const scheduleFlush = (): void => {
    if (flushTimer !== null) return;
    flushTimer = setTimeout(flush, Math.max(0, lastFlushAtMs + config.coalesceMs - Date.now()));
  };
  const flush = (): void => {
    flushTimer = null;
    lastFlushAtMs = Date.now();
    if (!ready || !state.hasPending) return;
    const p = state.takePending();
    if (p.movies.length === 0 && p.removed.length === 0) return;
    const batch = log.append({ movies: p.movies, removed: p.removed, maxEventTsMs: p.maxEventTsMs });
    const now = Date.now();
    if (p.maxEventTsMs > 0) {
      lastPushLagMs = now - p.maxEventTsMs;
      metrics.eventToPush.observe(lastPushLagMs / 1000);
    }
    hub.publish(batch);
    metrics.pushLatency.observe((Date.now() - p.firstReceivedAtMs) / 1000);
    metrics.version.set(batch.version);
  };

  const kafka = createKafka(o.connection, logger);
  try {
    gold = await startGoldConsumer({
      kafka,
      registry: createRegistryClient(o.connection.registryUrl),
      topic: topics.gold,
      logger,
      onRecord(key, value, receivedAtMs) {
        metrics.goldRecords.inc();
        if (state.apply(key, value, receivedAtMs) && ready) scheduleFlush();
      },
      onDecodeError: () => metrics.goldDecodeErrors.inc(),
    });
  } catch (err) {
    await hub.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    throw err;
  }
  const goldConsumer = gold;
  const readyPromise = goldConsumer.ready.then(() => {
    state.takePending();
    ready = true;
    hub.flushWaiting();
    logger.info({ movies: state.size, epoch }, 'gold topic read; pushing live changes');
    if (state.hasPending) scheduleFlush();
  });
  health = startHealthPoller({
    kafka,
    topics,
    enricherGroupId: config.enricherGroupId,
    db,
    goldLag: () => goldConsumer.lag(),
    intervalMs: config.healthIntervalMs,
    logger,
  });
  logger.info({ url, db: config.dbPath, gold: topics.gold, allowedOrigins }, 'live UI listening');

  let stopping: Promise<void> | null = null;
  return {
    port,
    url,
    epoch,
    allowedOrigins,
    ready: readyPromise,
    stop() {
      stopping ??= (async () => {
        if (flushTimer) clearTimeout(flushTimer);
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await hub.close();
        await health?.stop();
        await goldConsumer.stop().catch((err: unknown) => {
          logger.warn({ err: errorMessage(err) }, 'gold consumer did not stop cleanly');
        });
        server.closeAllConnections();
        await closed;
        db.close();
      })();
      return stopping;
    },
  };
}
