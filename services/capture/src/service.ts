import {
  ConfigError,
  createEncoder,
  createKafka,
  createPipelineConsumer,
  createRegistryClient,
  IDLE_FETCH_WAIT_MS,
  loadSchema,
  newTransactionalProducer,
  OutageTracker,
  retryWhileOutage,
  runTransaction,
  sleep,
  valueSubject,
  type Admin,
  type BookingChange,
  type EachBatchPayload,
  type Kafka,
  type Logger,
  type Producer,
} from '@cdc/core';
import { Cleanups, startOpsServer } from '@cdc/observe';
import { captureBatch } from './capture-batch';
import type { CaptureConfig } from './config';
import { ConnectorWatch } from './connector-watch';
import { ConnectRest } from './source/connect-rest';
import { CaptureMetrics } from './metrics';

/**
 * The capture stage: Debezium's topic of the source table → bronze, exactly once. Each batch of
 * one partition is transformed (capture-batch.ts) and written with its input offsets in one Kafka
 * transaction; a failed transaction is aborted and the batch read again from the last committed
 * offset. Debezium itself is at least once: what it sends again carries the same LSN, so the same
 * `event_id` and version, and the aggregator's version rule skips it.
 */
export interface Capture {
  readonly opsPort: number;
  readonly metrics: CaptureMetrics;
  health(): { ok: boolean; [detail: string]: unknown };
  /** Resolves if the stage stops by itself (a consumer crash kafkajs does not restart). */
  readonly stopped: Promise<Error>;
  close(): Promise<void>;
  unfinishedWork(): string[];
}

export async function startCapture(
  config: CaptureConfig,
  logger: Logger,
  options: { signal?: AbortSignal } = {},
): Promise<Capture> {
  const log = logger.child({ component: 'capture' });
  const outages = new OutageTracker({ logger: log });
  const kafka = createKafka(config.connection, logger, { outages });
  const metrics = new CaptureMetrics();
  const cleanups = new Cleanups(log);
  let joined = false;
  let fatal: Error | null = null;
  let closing: Promise<void> | null = null;
  let resolveStopped: (err: Error) => void = () => undefined;
  const stopped = new Promise<Error>((resolve) => (resolveStopped = resolve));
  const stopping = () => closing !== null || options.signal?.aborted === true;
  let watch: ConnectorWatch | null = null;
  const health = () => ({
    ok: joined && fatal === null && closing === null,
    groupId: config.groupId,
    sourceTopic: config.sourceTopic,
    ...(watch ? { connector: watch.current } : {}),
    ...(fatal ? { error: fatal.message } : {}),
  });
  const close = (): Promise<void> => {
    closing ??= (async () => {
      log.info('stopping');
      await cleanups.run();
      log.info('stopped');
    })();
    return closing;
  };

  try {
    const ops = await startOpsServer({
      port: config.opsPort,
      metrics: metrics.registry,
      health,
      logger,
      outages,
      portSetting: { option: '--ops-port', env: 'CAPTURE_OPS_PORT' },
    });
    cleanups.push(() => ops.close());
    const retry = <T>(what: string, fn: () => Promise<T>) =>
      retryWhileOutage(fn, { outages, what, signal: options.signal });
    const admin = kafka.admin();
    cleanups.push(() => admin.disconnect());
    await retry('connecting to Kafka', async () => {
      await admin.connect();
      await checkTopics(admin, config);
    });
    const { text, type } = loadSchema('BookingChange');
    const registry = createRegistryClient(config.connection.registryUrl);
    const encoder = await retry('registering the bronze schema', () =>
      createEncoder<BookingChange>(registry, valueSubject(config.topics.bronze), text, type),
    );
    const writer = await BronzeWriter.start(kafka, config, metrics, log);
    cleanups.push(() => writer.close());
    const consumer = createPipelineConsumer(kafka, {
      groupId: config.groupId,
      logger,
      outages,
      stopping,
      maxWaitTimeInMs: IDLE_FETCH_WAIT_MS,
      onFatal: (err) => {
        fatal ??= err;
        resolveStopped(err);
      },
    });
    cleanups.push(() => consumer.disconnect());
    consumer.on(consumer.events.GROUP_JOIN, () => (joined = true));
    await retry('joining the capture group', async () => {
      await consumer.connect();
      await consumer.subscribe({ topic: config.sourceTopic, fromBeginning: true });
    });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: (payload) =>
        writer.write(payload, (messages) =>
          captureBatch(messages, payload.batch, config.sourceName, (c) => encoder.encode(c)),
        ),
    });
    watch = watchConnector(config, metrics, log);
    cleanups.push(() => watch?.stop());
    log.info(
      { sourceTopic: config.sourceTopic, bronze: config.topics.bronze, groupId: config.groupId },
      'capture running',
    );
    return { opsPort: ops.port, metrics, health, stopped, close, unfinishedWork: () => [] };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Starts watching the Debezium connector, unless CAPTURE_CONNECTOR_CHECK_MS=0. */
function watchConnector(config: CaptureConfig, metrics: CaptureMetrics, log: Logger): ConnectorWatch | null {
  if (!config.connectorWatch) return null;
  const { connectUrl, ...o } = config.connectorWatch;
  const watch = new ConnectorWatch({ ...o, rest: new ConnectRest(connectUrl), logger: log, metrics });
  watch.start();
  return watch;
}

/** The transactional producer of bronze, replaced after a failed transaction. */
class BronzeWriter {
  private constructor(
    private producer: Producer | null,
    private readonly kafka: Kafka,
    private readonly config: CaptureConfig,
    private readonly metrics: CaptureMetrics,
    private readonly log: Logger,
  ) {}

  static async start(
    kafka: Kafka,
    config: CaptureConfig,
    metrics: CaptureMetrics,
    log: Logger,
  ): Promise<BronzeWriter> {
    return new BronzeWriter(await BronzeWriter.producerFor(kafka, config), kafka, config, metrics, log);
  }

  private static producerFor(kafka: Kafka, config: CaptureConfig): Promise<Producer> {
    return newTransactionalProducer(kafka, {
      transactionalId: config.transactionalId,
      transactionTimeoutMs: config.transactionTimeoutMs,
    });
  }

  async write(
    payload: EachBatchPayload,
    transform: (messages: EachBatchPayload['batch']['messages']) => ReturnType<typeof captureBatch>,
  ): Promise<void> {
    const { batch } = payload;
    if (batch.messages.length === 0 || !payload.isRunning() || payload.isStale()) return;
    const out = transform(batch.messages);
    const last = batch.messages[batch.messages.length - 1]!.offset;
    const { topics, groupId } = { topics: this.config.topics, groupId: this.config.groupId };
    try {
      const seconds = await runTransaction(this.producer, {
        groupId,
        sends: () => [
          [
            ...(out.bronze.length ? [{ topic: topics.bronze, messages: out.bronze }] : []),
            ...(out.deadLetters.length ? [{ topic: topics.deadLetter, messages: out.deadLetters }] : []),
          ],
        ],
        offsets: () => [
          {
            topic: batch.topic,
            partitions: [{ partition: batch.partition, offset: String(BigInt(last) + 1n) }],
          },
        ],
      });
      this.metrics.transactionSeconds.observe(seconds);
    } catch (err) {
      this.metrics.failedBatches.inc();
      await this.replaceProducer();
      await sleep(this.config.retryMs);
      // kafkajs reads the batch again from the last committed offset.
      throw err;
    }
    payload.resolveOffset(last);
    for (const c of out.changes) this.metrics.changes.inc({ op: c.op });
    for (const reason of out.skipped) this.metrics.skipped.inc({ reason });
    if (out.skipped.includes('truncate')) {
      this.log.warn(
        { sourceTopic: batch.topic },
        'the source table was truncated: not applied, the kpis keep its rows (see docs/contract.md)',
      );
    }
    this.metrics.deadLetters.inc(out.deadLetters.length);
  }

  private async replaceProducer(): Promise<void> {
    const old = this.producer;
    this.producer = null;
    await old?.disconnect().catch(() => undefined);
    this.producer = await BronzeWriter.producerFor(this.kafka, this.config).catch(() => null);
  }

  async close(): Promise<void> {
    await this.producer?.disconnect().catch(() => undefined);
  }
}

async function checkTopics(admin: Admin, config: CaptureConfig): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const missing = [config.sourceTopic, config.topics.bronze, config.topics.deadLetter].filter(
    (t) => !existing.has(t),
  );
  if (missing.length > 0) {
    throw new ConfigError(
      `topic(s) ${missing.join(', ')} do not exist: create the pipeline's with \`cdc topics create\` and the source's with \`cdc source create --execute\``,
    );
  }
}
