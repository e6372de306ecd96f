import {
  createEncoder,
  createKafka,
  createRegistryClient,
  loadSchema,
  valueSubject,
  type Alert,
  type Logger,
  type Kafka,
  type Producer,
  type RegistryClient,
} from '@cdc/core';
import { Cleanups, startOpsServer, type Health } from '@cdc/observe';
import type { AlertsConfig } from './config';
import { startDispatcher, type Destination, type Dispatcher } from './dispatcher';
import { AlertEngine } from './engine/engine';
import { emptyEngineState, type EngineState } from './engine/state';
import { alertRecord } from './engine/record';
import { startGoldReader, type GoldReader } from './gold-reader';
import { createAlertsMetrics, type AlertsMetrics } from './metrics';
import { startProbe, type Probe } from './probe';
import { postAlertmanager } from './alertmanager';
import { AlertStore, KAFKA_DESTINATION, alertmanagerDestination, webhookDestination } from './store';
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
  const cleanups = new Cleanups(log);
  return cleanups.starting(() => start(config, log, cleanups, () => cleanups.run()));
}

async function start(
  config: AlertsConfig,
  log: Logger,
  cleanups: Cleanups,
  cleanup: () => Promise<void>,
): Promise<RunningAlerts> {
  const metrics = createAlertsMetrics();
  const { store, engine, destinations } = openState(config, log, cleanups);
  const firingAtStart = engine.active().filter((a) => a.phase === 'firing');
  const { kafka, registry, kafkaDestination } = await connectAlertsTopic(config, log, cleanups);
  const dispatcher = startDelivery(
    config,
    store,
    [kafkaDestination, ...webhookDestinations(config)],
    metrics,
    log,
  );
  cleanups.push(() => dispatcher.stop());

  const done = settleable();
  const evaluator = new Evaluator({
    config,
    engine,
    store,
    destinations,
    dispatcher,
    metrics,
    log,
    onFailed: done.fail,
  });
  const gold = await startGoldInput(config, kafka, registry, engine, evaluator, metrics, log);
  cleanups.push(() => gold.stop());
  const probe = startPipelineProbe(config, kafka, engine, store, metrics, log);
  cleanups.push(() => probe.stop());

  evaluator.startInterval();
  // First on stopping: no more snapshots, no more evaluations, and the final state saved, before
  // any client waits for the broker (a broker that is down or hanging cannot cost the state; the
  // snapshots not taken are read again after a restart).
  cleanups.push(() => {
    gold.halt();
    evaluator.halt();
  });

  const health = (): Health => healthOf(config, engine, store, evaluator.failed);
  const ops = await startOpsServer({ port: config.opsPort, metrics: metrics.registry, logger: log, health });
  cleanups.push(() => ops.close());
  logRunning(config, log, firingAtStart, ops.port);

  let stopping: Promise<void> | null = null;
  return {
    opsPort: ops.port,
    metrics,
    done: done.promise,
    health,
    stop() {
      stopping ??= cleanup().then(() => done.finish());
      return stopping;
    },
  };
}

/** The alert state database, the engine resumed from it, and the outbox cleared of destinations no longer configured. */
function openState(
  config: AlertsConfig,
  log: Logger,
  cleanups: Cleanups,
): { store: AlertStore; engine: AlertEngine; destinations: string[] } {
  const store = AlertStore.open(config.dbPath);
  cleanups.push(() => store.close());
  const engine = new AlertEngine(config.rules, restoredState(config, store, log));
  const destinations = [
    KAFKA_DESTINATION,
    ...config.webhooks.map(webhookDestination),
    ...config.alertmanagers.map(alertmanagerDestination),
  ];
  for (const [d, n] of store.dropUnconfigured(destinations)) {
    log.warn(
      { destination: d, notifications: n },
      'undelivered notifications dropped: that destination is no longer configured',
    );
  }
  return { store, engine, destinations };
}

/**
 * The saved engine state when it belongs to this pipeline (its gold topic), else a fresh one. A
 * state learned from other topics (another TOPIC_PREFIX on the same database file, or one saved
 * before states named their pipeline) carries that stream's counters and an event clock that may
 * be far ahead of this one: restored, it would count this stream's events as late and never fire.
 */
function restoredState(config: AlertsConfig, store: AlertStore, log: Logger): EngineState {
  const pipeline = config.topics.gold;
  const saved = store.loadState();
  if (saved === null || saved.pipeline === pipeline) return saved ?? { ...emptyEngineState(), pipeline };
  log.warn(
    {
      db: config.dbPath,
      savedFor: saved.pipeline ?? 'unknown (saved by an older version)',
      pipeline,
      droppedAlerts: saved.alerts.map((a) => a.alertId),
    },
    'alert state belongs to another pipeline: starting afresh',
  );
  return { ...emptyEngineState(), pipeline };
}

/** The Kafka client, the registry and the alerts topic as a destination (an idempotent producer). */
async function connectAlertsTopic(
  config: AlertsConfig,
  log: Logger,
  cleanups: Cleanups,
): Promise<{ kafka: Kafka; registry: RegistryClient; kafkaDestination: Destination }> {
  const registry = createRegistryClient(config.connection);
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
  const kafkaDestination: Destination = {
    name: KAFKA_DESTINATION,
    deliver: async (alert) => {
      await producer.send({
        topic: config.topics.alerts,
        acks: -1,
        messages: [{ key: alert.alert_id, value: encoder.encode(alert) }],
      });
    },
  };
  return { kafka, registry, kafkaDestination };
}

function webhookDestinations(config: AlertsConfig): Destination[] {
  const webhooks = config.webhooks.map((url): Destination => ({
    name: webhookDestination(url),
    deliver: (alert, signal) =>
      postWebhook(url, alert, { secret: config.webhookSecret, timeoutMs: config.webhookTimeoutMs, signal }),
  }));
  const alertmanagers = config.alertmanagers.map((url): Destination => ({
    name: alertmanagerDestination(url),
    deliver: (alert, signal) =>
      postAlertmanager(url, alert, {
        generatorUrl: config.generatorUrl,
        timeoutMs: config.webhookTimeoutMs,
        signal,
      }),
  }));
  return [...webhooks, ...alertmanagers];
}

/** The outbox's dispatcher: delivers saved notifications to every destination, retrying with backoff. */
function startDelivery(
  config: AlertsConfig,
  store: AlertStore,
  destinations: Destination[],
  metrics: AlertsMetrics,
  log: Logger,
): Dispatcher {
  return startDispatcher({
    store,
    destinations,
    retryMinMs: config.retryMinMs,
    retryMaxMs: config.retryMaxMs,
    logger: log,
    onDelivered: (d) => metrics.delivered.inc({ destination: d }),
    onFailed: (d) => metrics.deliveryFailures.inc({ destination: d }),
  });
}

/** Gold snapshots into the engine, each batch evaluated once it is in. */
function startGoldInput(
  config: AlertsConfig,
  kafka: Kafka,
  registry: RegistryClient,
  engine: AlertEngine,
  evaluator: Evaluator,
  metrics: AlertsMetrics,
  log: Logger,
): Promise<GoldReader> {
  return startGoldReader({
    kafka,
    registry,
    topic: config.topics.gold,
    groupId: config.groupId,
    logger: log,
    onSnapshot: (key, value) => {
      metrics.snapshots.inc();
      engine.ingestSnapshot(key, value, Date.now());
      evaluator.evaluateSoon();
    },
    onUndecodable: () => metrics.undecodable.inc(),
  });
}

/** The pipeline's offsets (dead letters, consumer lag) sampled into the engine. */
function startPipelineProbe(
  config: AlertsConfig,
  kafka: Kafka,
  engine: AlertEngine,
  store: AlertStore,
  metrics: AlertsMetrics,
  log: Logger,
): Probe {
  return startProbe({
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
}

interface EvaluatorDeps {
  config: AlertsConfig;
  engine: AlertEngine;
  store: AlertStore;
  /** The configured destinations (a transition's deliveries are saved for each). */
  destinations: string[];
  dispatcher: Dispatcher;
  metrics: AlertsMetrics;
  log: Logger;
  /** The state could not be saved: the service stops with this error. */
  onFailed(err: Error): void;
}

/**
 * Applies the rules: on the interval, and right after each batch of gold snapshots. Judges what
 * changed since the last evaluation (the movies of a gold batch; on the interval, only what time
 * alone moves: nothing at all while the pipeline is idle and no alert is pending or clearing).
 * The state is saved with every transition, and at most every checkpoint interval when it changed
 * otherwise.
 */
class Evaluator {
  /** Why the state can no longer be saved (the service has stopped evaluating), or null. */
  failed: Error | null = null;
  private lastSaveAt = 0;
  private savedRevision: number;
  private soon: NodeJS.Immediate | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly rulesByName: Map<string, AlertsConfig['rules'][number]>;

  constructor(private readonly d: EvaluatorDeps) {
    this.savedRevision = d.engine.revision;
    this.rulesByName = new Map(d.config.rules.map((r) => [r.name, r]));
  }

  startInterval(): void {
    this.timer = setInterval(() => this.evaluate(), this.d.config.evaluateIntervalMs);
  }

  /** Evaluates once the current I/O callbacks are done (a batch of snapshots is one evaluation). */
  evaluateSoon(): void {
    this.soon ??= setImmediate(() => {
      this.soon = null;
      this.evaluate();
    });
  }

  /** Stops evaluating and saves the state: the saved time says the state is current as of the stop. */
  halt(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.soon) clearImmediate(this.soon);
    this.soon = null;
    if (!this.failed) this.save([], Date.now());
  }

  private evaluate(): void {
    if (this.failed) return;
    const { engine, config, metrics } = this.d;
    const now = Date.now();
    try {
      const before = engine.stats.judged;
      const transitions = engine.evaluateChanged(now);
      const records = transitions.map((t) => alertRecord(this.rulesByName.get(t.state.rule)!, t, now));
      if (
        records.length > 0 ||
        (engine.revision !== this.savedRevision && now - this.lastSaveAt >= config.checkpointIntervalMs)
      ) {
        this.save(records, now);
      }
      this.report(records);
      if (records.length > 0) this.d.dispatcher.notify();
      if (engine.stats.judged !== before) this.countActive();
      metrics.eventLag.set((now - engine.eventNow(now)) / 1000);
    } catch (err) {
      // The state database is unusable (disk full, file removed): stop rather than lose alerts.
      this.failed = err instanceof Error ? err : new Error(String(err));
      this.d.log.error({ err }, 'cannot save the alert state; stopping');
      this.d.onFailed(this.failed);
    }
  }

  private save(records: AlertRecord[], now: number): void {
    this.d.store.save(this.d.engine.state(), records, this.d.destinations, now);
    this.lastSaveAt = now;
    this.savedRevision = this.d.engine.revision;
  }

  private report(records: AlertRecord[]): void {
    for (const r of records) {
      this.d.metrics.transitions.inc({ rule: r.rule, status: r.status.toLowerCase() });
      this.d.log.info(
        { alert: r.alert_id, rule: r.rule, subject: r.subject, severity: r.severity, value: r.value },
        `alert ${r.status === 'FIRING' ? 'firing' : 'resolved'}: ${r.summary}`,
      );
    }
  }

  private countActive(): void {
    const active = this.d.engine.active();
    this.d.metrics.active.set({ phase: 'pending' }, active.filter((a) => a.phase === 'pending').length);
    this.d.metrics.active.set({ phase: 'firing' }, active.filter((a) => a.phase === 'firing').length);
  }
}

type AlertRecord = ReturnType<typeof alertRecord>;

/** A promise settled from outside: `done` of the running service. */
function settleable(): { promise: Promise<void>; finish: () => void; fail: (err: Error) => void } {
  let finish: () => void = () => undefined;
  let fail: (err: Error) => void = () => undefined;
  const promise = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  promise.catch(() => undefined);
  return { promise, finish, fail };
}

function healthOf(
  config: AlertsConfig,
  engine: AlertEngine,
  store: AlertStore,
  failed: Error | null,
): Health {
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

function logRunning(
  config: AlertsConfig,
  log: Logger,
  firingAtStart: ReturnType<AlertEngine['active']>,
  opsPort: number,
): void {
  log.info(
    {
      rules: config.rules.map((r) => r.name),
      rulesFile: config.rulesFile,
      webhooks: config.webhooks.length,
      alertmanagers: config.alertmanagers,
      signed: config.webhookSecret !== null,
      firing: firingAtStart.map((a) => a.alertId),
      db: config.dbPath,
      opsPort,
    },
    'alerts running',
  );
}
