import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { createMetricsRegistry } from '@cdc/observe';

/**
 * The enricher's counters, both as Prometheus metrics (GET /metrics) and as plain numbers
 * (`snapshot()`, for tests, benchmarks and /healthz). Records are counted when their
 * transaction commits, so a retried batch is not counted twice.
 */
export interface EnricherStats {
  recordsIn: number;
  recordsOut: number;
  recordsInvalid: number;
  deadLettered: number;
  deadLetteredByCode: Record<string, number>;
  transactionsCommitted: number;
  transactionsAborted: number;
  batchRetries: number;
  producerRecreations: number;
  consumerCrashes: number;
  rebalances: number;
  lagByPartition: Record<string, number>;
  lastCommitAtMs: number | null;
}

export class EnricherMetrics {
  readonly registry: Registry;
  private readonly stats: EnricherStats = {
    recordsIn: 0,
    recordsOut: 0,
    recordsInvalid: 0,
    deadLettered: 0,
    deadLetteredByCode: {},
    transactionsCommitted: 0,
    transactionsAborted: 0,
    batchRetries: 0,
    producerRecreations: 0,
    consumerCrashes: 0,
    rebalances: 0,
    lagByPartition: {},
    lastCommitAtMs: null,
  };
  private readonly recordsIn: Counter;
  private readonly recordsOut: Counter;
  private readonly recordsInvalid: Counter;
  private readonly deadLettered: Counter<'code'>;
  private readonly transactions: Counter<'result'>;
  private readonly transactionSeconds: Histogram;
  private readonly transactionRecords: Histogram;
  private readonly batchRetries: Counter;
  private readonly producerRecreations: Counter;
  private readonly consumerCrashes: Counter;
  private readonly rebalances: Counter;
  private readonly lag: Gauge<'topic' | 'partition'>;

  constructor(registry: Registry = createMetricsRegistry('enricher')) {
    this.registry = registry;
    const registers = [registry];
    this.recordsIn = new Counter({
      name: 'cdc_enricher_records_in_total',
      help: 'Bronze records processed (their transaction committed)',
      registers,
    });
    this.recordsOut = new Counter({
      name: 'cdc_enricher_records_out_total',
      help: 'Silver records committed',
      registers,
    });
    this.recordsInvalid = new Counter({
      name: 'cdc_enricher_records_invalid_total',
      help: 'Silver records committed flagged invalid (bad data, good bytes)',
      registers,
    });
    this.deadLettered = new Counter({
      name: 'cdc_enricher_records_dead_lettered_total',
      help: 'Records written to the dead-letter topic, by error code',
      labelNames: ['code'],
      registers,
    });
    this.transactions = new Counter({
      name: 'cdc_enricher_transactions_total',
      help: 'Kafka transactions, by result (commit, abort, failed = commit outcome unknown)',
      labelNames: ['result'],
      registers,
    });
    this.transactionSeconds = new Histogram({
      name: 'cdc_enricher_transaction_duration_seconds',
      help: 'Time from beginning a transaction to its commit',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.transactionRecords = new Histogram({
      name: 'cdc_enricher_transaction_records',
      help: 'Input records per committed transaction',
      buckets: [1, 10, 100, 1000, 5000, 10_000, 25_000, 50_000, 100_000],
      registers,
    });
    this.batchRetries = new Counter({
      name: 'cdc_enricher_batch_retries_total',
      help: 'Batches retried after an aborted transaction or an unavailable dependency',
      registers,
    });
    this.producerRecreations = new Counter({
      name: 'cdc_enricher_producer_recreations_total',
      help: 'Transactional producers recreated after a failed commit or abort',
      registers,
    });
    this.consumerCrashes = new Counter({
      name: 'cdc_enricher_consumer_crashes_total',
      help: 'kafkajs consumer crashes (each one restarts the consumer or stops the enricher)',
      registers,
    });
    this.rebalances = new Counter({
      name: 'cdc_enricher_group_joins_total',
      help: 'Consumer group joins (the first one and every rebalance)',
      registers,
    });
    this.lag = new Gauge({
      name: 'cdc_enricher_consumer_lag_records',
      help: 'Records between the committed input offset and the high watermark, per partition',
      labelNames: ['topic', 'partition'],
      registers,
    });
  }

  committed(t: {
    recordsIn: number;
    recordsOut: number;
    invalid: number;
    deadLetterCodes: Map<string, number>;
    seconds: number;
  }): void {
    const s = this.stats;
    s.recordsIn += t.recordsIn;
    s.recordsOut += t.recordsOut;
    s.recordsInvalid += t.invalid;
    s.transactionsCommitted += 1;
    s.lastCommitAtMs = Date.now();
    this.recordsIn.inc(t.recordsIn);
    this.recordsOut.inc(t.recordsOut);
    this.recordsInvalid.inc(t.invalid);
    for (const [code, n] of t.deadLetterCodes) {
      s.deadLettered += n;
      s.deadLetteredByCode[code] = (s.deadLetteredByCode[code] ?? 0) + n;
      this.deadLettered.inc({ code }, n);
    }
    this.transactions.inc({ result: 'commit' });
    this.transactionSeconds.observe(t.seconds);
    this.transactionRecords.observe(t.recordsIn);
  }

  aborted(result: 'abort' | 'failed'): void {
    this.stats.transactionsAborted += 1;
    this.transactions.inc({ result });
  }

  batchRetried(): void {
    this.stats.batchRetries += 1;
    this.batchRetries.inc();
  }

  producerRecreated(): void {
    this.stats.producerRecreations += 1;
    this.producerRecreations.inc();
  }

  consumerCrashed(): void {
    this.stats.consumerCrashes += 1;
    this.consumerCrashes.inc();
  }

  groupJoined(): void {
    this.stats.rebalances += 1;
    this.rebalances.inc();
  }

  setLag(topic: string, partition: number, lag: number): void {
    this.stats.lagByPartition[String(partition)] = lag;
    this.lag.set({ topic, partition: String(partition) }, lag);
  }

  snapshot(): EnricherStats {
    return structuredClone(this.stats);
  }
}
