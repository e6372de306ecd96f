import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import {
  ConfigError,
  errorMessage,
  createKafka,
  createControlClient,
  createRegistryClient,
  OutageTracker,
  retryWhileOutage,
  topicNames,
  type ConnectionConfig,
  type Logger,
  type RegistryClient,
  IDLE_FETCH_WAIT_MS,
} from '@cdc/core';
import { createMetricsRegistry, PortInUseError } from '@cdc/observe';
import { AlertsBoard } from './alerts-board';
import { startAlertsConsumer, type AlertsConsumer } from './alerts-consumer';
import { TokenStore } from './api-tokens';
import type { AuthOptions } from './auth';
import { authRequired, isLoopback, ownOrigins, type LiveUiConfig } from './config';
import { createDeadLetterSource, type DeadLetterSource } from './dead-letters';
import { createDbHandle } from '@cdc/read-model';
import { startGoldConsumer, type GoldConsumer } from './gold-consumer';
import { GoldState } from './gold-state';
import { startHealthPoller, type HealthPoller } from './health';
import { healthBody, healthzBody, type HealthSources } from './health-bodies';
import { createLiveUiApp } from './live-app';
import { createLiveUiMetrics } from './metrics';
import { alertsMessage, type Freshness } from './protocol';
import { PushCoalescer } from './push-coalescer';
import { VersionLog } from './version-log';
import { createWsHub, WS_PATH } from './ws-hub';

/**
 * The live UI server (fastify): the dashboard's static files, the JSON/CSV API over the
 * aggregator's SQLite (read-only) with its OpenAPI description, /healthz and /metrics, and the
 * websocket that pushes gold KPI changes.
 */
export interface LiveUiServer {
  readonly port: number;
  readonly url: string;
  readonly epoch: string;
  readonly allowedOrigins: readonly string[];
  /** Resolves once the gold topic has been read to its end as of start. */
  readonly ready: Promise<void>;
  stop(): Promise<void>;
  /** Nothing the UI does is lost by stopping: it only reads. */
  unfinishedWork(): string[];
}

export async function startLiveUi(o: {
  config: LiveUiConfig;
  connection: ConnectionConfig;
  logger: Logger;
  /** Aborted when the process is asked to stop (ends the wait for an unreachable broker). */
  signal?: AbortSignal;
}): Promise<LiveUiServer> {
  const { config, logger } = o;
  // Refused before anything starts: no tokens where they are required, unreadable TLS files.
  const auth = authOptions(config, logger);
  const https = tlsFiles(config);
  // The page and the API are served at once; gold is read as soon as the broker answers (an
  // outage is waited out: one warning, /healthz 503 with the reason while it lasts).
  const outages = new OutageTracker({ logger });
  const stopController = new AbortController();
  o.signal?.addEventListener('abort', () => stopController.abort(), { once: true });
  const registry = createMetricsRegistry('live-ui');
  const metrics = createLiveUiMetrics(registry);
  const db = createDbHandle(config.dbPath, logger);
  const state = new GoldState();
  const log = new VersionLog(config.versionLogBatches, config.versionLogEntries);
  const epoch = randomBytes(6).toString('hex');
  const topics = topicNames(o.connection.topicPrefix);
  let allowedOrigins: string[] = config.allowedOrigins;
  let ready = false;
  const board = new AlertsBoard();
  /** The alerts the dashboard shows: every firing one and the latest resolved ones. */
  const shownAlerts = () => [...board.firing(), ...board.list({ status: 'resolved', limit: 50 })];

  // Pushes gold changes to the clients, coalesced (push-coalescer.ts).
  const pusher = new PushCoalescer({
    coalesceMs: config.coalesceMs,
    state,
    log,
    metrics,
    isReady: () => ready,
    publish: (batch) => hub.publish(batch),
  });
  const freshness = (): Freshness => ({
    lastChangeAtMs: state.lastChangeAtMs,
    lastEventTsMs: state.lastEventTsMs,
    e2eLagMs: pusher.lastPushLagMs ?? state.lastApplyLagMs,
  });

  const hub = createWsHub({
    epoch,
    log,
    state,
    isReady: () => ready,
    freshness,
    maxBufferedBytes: config.maxBufferedBytes,
    slowClientTimeoutMs: config.slowClientTimeoutMs,
    heartbeatMs: config.heartbeatMs,
    maxClients: config.maxClients,
    metrics,
    logger,
    alerts: () => alertsMessage(epoch, shownAlerts(), Date.now()),
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
  const healthSources: HealthSources = {
    epoch,
    isReady: () => ready,
    freshness,
    state,
    version: () => log.version,
    clientCount: () => hub.clientCount(),
    poller: () => health,
    db,
    outages,
  };

  // Set once the Kafka client exists (below); until then the route answers 503.
  let deadLetters: DeadLetterSource = () => Promise.reject(new Error('not connected to Kafka yet'));
  const app = await createLiveUiApp({
    logger,
    metrics,
    hub,
    allowedOrigins: () => allowedOrigins,
    maxClients: config.maxClients,
    maxPayloadBytes: config.maxPayloadBytes,
    auth,
    https,
    api: {
      db,
      alerts: (q) => board.list(q),
      live,
      health: () => healthBody(healthSources),
      healthz: () => healthzBody(healthSources),
      metrics: async () => ({ contentType: registry.contentType, text: await registry.metrics() }),
      deadLetters: (q) => deadLetters(q),
    },
  });
  const port = await listen(app, config, hub);
  const server = app.server;
  const scheme = https ? 'https' : 'http';
  if (allowedOrigins.length === 0) allowedOrigins = ownOrigins(config.host, port, scheme);
  const url = `${scheme}://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;

  const kafka = createKafka(o.connection, logger, { outages });
  const deadLetterSource = createDeadLetterSource({
    kafka,
    topic: topics.deadLetter,
    groupPrefix: `${o.connection.topicPrefix}cdc-live-ui`,
  });
  deadLetters = deadLetterSource;
  const schemaRegistry = createRegistryClient(o.connection);
  const goldStarting = retryWhileOutage(
    () =>
      startGoldConsumer({
        kafka,
        registry: schemaRegistry,
        topic: topics.gold,
        logger,
        outages,
        onRecord(key, value, receivedAtMs) {
          metrics.goldRecords.inc();
          if (state.apply(key, value, receivedAtMs) && ready) pusher.schedule();
        },
        onDecodeError: () => metrics.goldDecodeErrors.inc(),
      }),
    { outages, what: 'reading the gold topic', signal: stopController.signal, maxMs: 1000 },
  ).then((g) => (gold = g));
  const readyPromise = goldStarting
    .then((g) => g.ready)
    .then(() => {
      state.takePending();
      ready = true;
      hub.flushWaiting();
      logger.info({ movies: state.size, epoch }, 'gold topic read; pushing live changes');
      if (state.hasPending) pusher.schedule();
    });
  readyPromise.catch((err: unknown) => {
    if (!stopController.signal.aborted) logger.error({ err }, 'cannot read the gold topic');
  });
  const alertsFeed = new AlertsFeed({
    kafka,
    registry: schemaRegistry,
    topic: topics.alerts,
    logger,
    outages,
    board,
    coalesceMs: config.coalesceMs,
    publish: () => hub.publishAlerts(),
    signal: stopController.signal,
  });
  health = startHealthPoller({
    kafka,
    topics,
    enricherGroupId: config.enricherGroupId,
    db,
    goldLag: () => gold?.lag() ?? null,
    // Records, not offsets (the enricher's transaction markers take offsets too); the same read as the page's.
    countDeadLetters: async (readAfter) => (await deadLetterSource({ limit: 0, readAfter })).total,
    // The derivation settings and the newest backfill, for the pipeline panel.
    control: createControlClient({
      kafka,
      registry: schemaRegistry,
      topic: topics.control,
      logger,
      groupPrefix: `${o.connection.topicPrefix}cdc-live-ui`,
      maxWaitMs: IDLE_FETCH_WAIT_MS,
    }),
    intervalMs: config.healthIntervalMs,
    logger,
    outages,
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
        pusher.stop();
        alertsFeed.cancelPush();
        await hub.close();
        // Stops accepting and closes idle connections; requests in flight get until the consumers
        // have stopped.
        const closed = app.close();
        stopController.abort();
        // In parallel: each consumer lets its fetch in flight finish (up to IDLE_FETCH_WAIT_MS).
        await Promise.all([
          health?.stop(),
          alertsFeed.stop(),
          (async () => {
            await goldStarting.catch(() => undefined);
            await gold?.stop().catch((err: unknown) => {
              logger.warn({ err }, 'gold consumer did not stop cleanly');
            });
          })(),
        ]);
        server.closeAllConnections();
        await closed;
        db.close();
      })();
      return stopping;
    },
    unfinishedWork: () => [],
  };
}

/**
 * The sign-in settings, or null when everyone who reaches the port is let in: on loopback unless
 * asked, or on a network the user declared trusted (a warning says so at every start). Where
 * tokens are required and none is active, the server does not start: it would let no one in, and
 * serving without them would show the data to the whole network.
 */
function authOptions(config: LiveUiConfig, logger: Logger): AuthOptions | null {
  if (!authRequired(config)) {
    if (!isLoopback(config.host)) {
      logger.warn(
        { host: config.host },
        'serving without API tokens on a non-loopback address because the network was declared trusted (--trusted-network): anyone who reaches this port sees every booking',
      );
    }
    return null;
  }
  const tokens = new TokenStore(config.tokensPath);
  if (tokens.activeCount() === 0) {
    throw new ConfigError(
      `cdc ui on ${config.host} requires API tokens, and ${config.tokensPath} has no active one: ` +
        'create one with `cdc ui tokens create --role viewer` (or operator), ' +
        'or pass --trusted-network (UI_TRUSTED_NETWORK=true) if everyone who can reach the port may see the data',
    );
  }
  return {
    tokens,
    secure: config.tlsCertFile !== null,
    sessionTtlMs: config.sessionTtlMinutes * 60_000,
    maxFailuresPerMinute: config.authMaxFailuresPerMinute,
    logger,
  };
}

/** The HTTPS certificate and key, read once at start; unreadable files stop the server. */
function tlsFiles(config: LiveUiConfig): { cert: Buffer; key: Buffer } | undefined {
  if (config.tlsCertFile === null || config.tlsKeyFile === null) return undefined;
  const read = (file: string, what: string, option: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new ConfigError(`cannot read the TLS ${what} ${file} (${option}): ${errorMessage(err)}`);
    }
  };
  return {
    cert: read(config.tlsCertFile, 'certificate', '--tls-cert, UI_TLS_CERT_FILE'),
    key: read(config.tlsKeyFile, 'key', '--tls-key, UI_TLS_KEY_FILE'),
  };
}

/** Listens on the configured port; a taken port becomes a PortInUseError naming --port and UI_PORT. */
async function listen(
  app: Awaited<ReturnType<typeof createLiveUiApp>>,
  config: LiveUiConfig,
  hub: { close(): Promise<void> },
): Promise<number> {
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (err) {
    await hub.close();
    await app.close();
    throw (err as NodeJS.ErrnoException).code === 'EADDRINUSE'
      ? new PortInUseError(config.port, 'the dashboard', { option: '--port', env: 'UI_PORT' }, err)
      : err;
  }
  return (app.server.address() as AddressInfo).port;
}

/**
 * Alerts (from `cdc alerts`) into the board: coalesced like gold, pushed whole (they are few).
 * Started in the background like gold; a pipeline without the alerts topic gets a dashboard
 * without alerts.
 */
class AlertsFeed {
  private timer: NodeJS.Timeout | null = null;
  private consumer: AlertsConsumer | null = null;
  private readonly starting: Promise<void>;

  constructor(o: {
    kafka: ReturnType<typeof createKafka>;
    registry: RegistryClient;
    topic: string;
    logger: Logger;
    outages: OutageTracker;
    board: AlertsBoard;
    coalesceMs: number;
    publish: () => void;
    signal: AbortSignal;
  }) {
    this.starting = retryWhileOutage(
      () =>
        startAlertsConsumer({
          kafka: o.kafka,
          registry: o.registry,
          topic: o.topic,
          logger: o.logger,
          onRecord: (id, alert) => {
            if (o.board.apply(id, alert) && this.timer === null) {
              this.timer = setTimeout(() => {
                this.timer = null;
                o.publish();
              }, o.coalesceMs);
            }
          },
        }),
      { outages: o.outages, what: 'reading the alerts topic', signal: o.signal, maxMs: 1000 },
    ).then(
      (a) => {
        this.consumer = a;
      },
      (err: unknown) => {
        if (!o.signal.aborted)
          o.logger.warn({ err, topic: o.topic }, 'cannot read the alerts topic; no alerts shown');
      },
    );
  }

  /** No push of alerts pending any more (the hub is closing). */
  cancelPush(): void {
    if (this.timer) clearTimeout(this.timer);
  }

  async stop(): Promise<void> {
    this.cancelPush();
    await this.starting;
    await this.consumer?.stop().catch(() => undefined);
  }
}
