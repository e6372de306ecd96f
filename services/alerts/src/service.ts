import {
  createEncoder,
  createKafka,
  createRegistryClient,
  errorMessage,
  loadSchema,
  valueSubject,
  type Alert,
  type Logger,
  type Producer,
} from '@cdc/core';
import { startOpsServer, type Health } from '@cdc/observe';
import type { AlertsConfig } from './config';
import { startDispatcher, type Destination, type Dispatcher } from './dispatcher';
import { AlertEngine } from './engine/engine';
import { alertRecord } from './engine/record';
import { startGoldReader, type GoldReader } from './gold-reader';
import { createAlertsMetrics, type AlertsMetrics } from './metrics';
import { startProbe, type Probe } from './probe';
import { AlertStore, KAFKA_DESTINATION, webhookDestination } from './store';
import { postWebhook } from './webhook';

/**
 * The alerts service, wiring the pure engine to its edges: gold and the pipeline's offsets in,
 * the SQLite state and outbox, then the alerts topic and the webhooks out, /healthz and /metrics.
 *
 * Every evaluation (each interval, and right after each batch of gold snapshots) applies the
 * rules; a transition is saved with the engine's state and its deliveries in one SQLite
 * transaction before anything is sent, so a crash at any point neither loses nor repeats a
 * notification (a receiver that honours the idempotency key sees each transition once).
 */
export interface RunningAlerts {
  readonly opsPort: number;
  readonly metrics: AlertsMetrics;
  /** Settles when the service stops; rejects if it failed for good. */
  readonly done: Promise<void>;
  health(): Health;
  stop(): Promise<void>;
}

export async function startAlerts(config: AlertsConfig, logger: Logger): Promise<RunningAlerts> {
  const log = logger.child({ component: 'alerts' });
  const cleanups: (() => Promise<void> | void)[] = [];
  const cleanup = async (): Promise<void> => {
    for (const fn of cleanups.splice(0).reverse()) {
      try {
        await fn();
      } catch (err) {
        log.warn({ err: errorMessage(err) }, 'error while shutting down');
      }
    }
  };
  try {
    return await start(config, log, cleanups, cleanup);
  } catch (err) {
    await cleanup();
    throw err;
  }
}

async function start(
  config: AlertsConfig,
  log: Logger,
  cleanups: (() => Promise<void> | void)[],
  cleanup: () => Promise<void>,
): Promise<RunningAlerts> {
  const metrics = createAlertsMetrics();
  const store = AlertStore.open(config.dbPath);
  cleanups.push(() => store.close());
  const saved = store.loadState();
  const engine = new AlertEngine(config.rules, saved ?? undefined);
  const firingAtStart = engine.active().filter((a) => a.phase === 'firing');

  const destinations = [KAFKA_DESTINATION, ...config.webhooks.map(webhookDestination)];
  for (const [d, n] of store.dropUnconfigured(destinations)) {
    log.warn(
      { destination: d, notifications: n },
      'undelivered notifications dropped: that destination is no longer configured',
    );
  }

  const registry = createRegistryClient(config.connection.registryUrl);
  const schema = loadSchema('Alert');
  const encoder = await createEncoder<Alert>(
    registry,
    valueSubject(config.topics.alerts),
    schema.text,
    schema.type,
  );
  const kafka = createKafka(config.connection, log);
  const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  cleanups.push(() => producer.disconnect());

  const dests: Destination[] = [
    {
      name: KAFKA_DESTINATION,
      deliver: async (alert) => {
        await producer.send({
          topic: config.topics.alerts,
          acks: -1,
          messages: [{ key: alert.alert_id, value: encoder.encode(alert) }],
        });
      },
    },
    ...config.webhooks.map((url): Destination => ({
      name: webhookDestination(url),
      deliver: (alert, signal) =>
        postWebhook(url, alert, { secret: config.webhookSecret, timeoutMs: config.webhookTimeoutMs, signal }),
    })),
  ];
  const dispatcher: Dispatcher = startDispatcher({
    store,
    destinations: dests,
    retryMinMs: config.retryMinMs,
    retryMaxMs: config.retryMaxMs,
    logger: log,
    onDelivered: (d) => metrics.delivered.inc({ destination: d }),
    onFailed: (d) => metrics.deliveryFailures.inc({ destination: d }),
  });
  cleanups.push(() => dispatcher.stop());

  const rulesByName = new Map(config.rules.map((r) => [r.name, r]));
  let lastSaveAt = 0;
  let savedRevision = engine.revision;
  let failed: Error | null = null;
  const save = (records: ReturnType<typeof alertRecord>[], now: number): void => {
    store.save(engine.state(), records, destinations, now);
    lastSaveAt = now;
    savedRevision = engine.revision;
  };
  // Judges what changed since the last evaluation (the movies of a gold batch; on the interval,
  // only what time alone moves: nothing at all while the pipeline is idle and no alert is pending
  // or clearing). The state is saved with every transition, and at most every checkpoint interval
  // when it changed otherwise.
  const evaluate = (): void => {
    if (failed) return;
    const now = Date.now();
    try {
      const before = engine.stats.judged;
      const transitions = engine.evaluateChanged(now);
      const records = transitions.map((t) => alertRecord(rulesByName.get(t.state.rule)!, t, now));
      if (
        records.length > 0 ||
        (engine.revision !== savedRevision && now - lastSaveAt >= config.checkpointIntervalMs)
      ) {
        save(records, now);
      }
      for (const r of records) {
        metrics.transitions.inc({ rule: r.rule, status: r.status.toLowerCase() });
        log.info(
          { alert: r.alert_id, rule: r.rule, subject: r.subject, severity: r.severity, value: r.value },
          `alert ${r.status === 'FIRING' ? 'firing' : 'resolved'}: ${r.summary}`,
        );
      }
      if (records.length > 0) dispatcher.notify();
      if (engine.stats.judged !== before) {
        const active = engine.active();
        metrics.active.set({ phase: 'pending' }, active.filter((a) => a.phase === 'pending').length);
        metrics.active.set({ phase: 'firing' }, active.filter((a) => a.phase === 'firing').length);
      }
      metrics.eventLag.set((now - engine.eventNow(now)) / 1000);
    } catch (err) {
      // The state database is unusable (disk full, file removed): stop rather than lose alerts.
      failed = err instanceof Error ? err : new Error(String(err));
      log.error({ err: errorMessage(err) }, 'cannot save the alert state; stopping');
      fail(failed);
    }
  };
  let soon: NodeJS.Immediate | null = null;
  const evaluateSoon = (): void => {
    soon ??= setImmediate(() => {
      soon = null;
      evaluate();
    });
  };

  let fail: (err: Error) => void = () => undefined;
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  done.catch(() => undefined);

  const gold: GoldReader = await startGoldReader({
    kafka,
    registry,
    topic: config.topics.gold,
    groupId: config.groupId,
    logger: log,
    onSnapshot: (key, value) => {
      metrics.snapshots.inc();
      engine.ingestSnapshot(key, value, Date.now());
      evaluateSoon();
    },
    onUndecodable: () => metrics.undecodable.inc(),
  });
  cleanups.push(() => gold.stop());

  const probe: Probe = startProbe({
    kafka,
    topics: config.topics,
    enricherGroupId: config.enricherGroupId,
    aggregatorGroupId: config.aggregatorGroupId,
    readerGroupPrefix: config.groupId,
    intervalMs: config.probeIntervalMs,
    newestEventTs: () => engine.state().watermark,
    logger: log,
    onSample: (s, wallMs) => {
      engine.ingestDeadLetterTotal(s.deadLetters, wallMs);
      engine.ingestPipeline(s.stale);
      for (const [d, n] of store.backlog()) metrics.backlog.set({ destination: d }, n);
    },
  });
  cleanups.push(() => probe.stop());

  const timer = setInterval(evaluate, config.evaluateIntervalMs);
  // First on stopping: no more snapshots, no more evaluations, and the final state saved, before
  // any client waits for the broker (a broker that is down or hanging cannot cost the state; the
  // snapshots not taken are read again after a restart).
  cleanups.push(() => {
    gold.halt();
    clearInterval(timer);
    if (soon) clearImmediate(soon);
    soon = null;
    if (!failed) save([], Date.now()); // always: the saved time says the state is current as of the stop
  });

  const ops = await startOpsServer({
    port: config.opsPort,
    metrics: metrics.registry,
    logger: log,
    health: () => health(),
  });
  cleanups.push(() => ops.close());

  function health(): Health {
    const active = engine.active();
    return {
      ok: failed === null,
      status: failed ? 'failed' : 'running',
      rules: config.rules.length,
      firing: active.filter((a) => a.phase === 'firing').map((a) => a.alertId),
      pending: active.filter((a) => a.phase === 'pending').length,
      notificationsPending: Object.fromEntries(store.backlog()),
      eventTime: engine.state().eventNow,
    };
  }

  log.info(
    {
      rules: config.rules.map((r) => r.name),
      rulesFile: config.rulesFile,
      webhooks: config.webhooks.length,
      signed: config.webhookSecret !== null,
      firing: firingAtStart.map((a) => a.alertId),
      db: config.dbPath,
      opsPort: ops.port,
    },
    'alerts running',
  );

  let stopping: Promise<void> | null = null;
  return {
    opsPort: ops.port,
    metrics,
    done,
    health,
    stop() {
      stopping ??= cleanup().then(() => finish());
      return stopping;
    },
  };
}
