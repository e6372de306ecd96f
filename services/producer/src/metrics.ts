import { Counter, Gauge } from 'prom-client';
import { createMetricsRegistry } from '@cdc/observe';
import type { Registry } from 'prom-client';
import { CHANGE_KINDS } from '@cdc/bookings';
import type { SendCounts } from './sender';

/** Prometheus metrics of one producer run, labelled by kind of change (`op`). */
export interface ProducerMetrics {
  registry: Registry;
  sent(c: SendCounts): void;
  acked(c: SendCounts): void;
  failed(c: SendCounts): void;
  setInFlight(n: number): void;
  setTargetRate(perSec: number | null): void;
}

export function createProducerMetrics(): ProducerMetrics {
  const registry = createMetricsRegistry('producer');
  const labelNames = ['op'] as const;
  const sent = new Counter({
    name: 'cdc_producer_events_sent_total',
    help: 'Events handed to Kafka (in flight or acknowledged), by kind of change',
    labelNames,
    registers: [registry],
  });
  const acked = new Counter({
    name: 'cdc_producer_events_acked_total',
    help: 'Events acknowledged by Kafka (acks=all), by kind of change',
    labelNames,
    registers: [registry],
  });
  const failed = new Counter({
    name: 'cdc_producer_events_failed_total',
    help: 'Events whose send failed after retries, by kind of change',
    labelNames,
    registers: [registry],
  });
  const errors = new Counter({
    name: 'cdc_producer_send_errors_total',
    help: 'Produce requests that failed after retries',
    registers: [registry],
  });
  const inFlight = new Gauge({
    name: 'cdc_producer_events_in_flight',
    help: 'Events sent and not yet acknowledged',
    registers: [registry],
  });
  const targetRate = new Gauge({
    name: 'cdc_producer_target_rate_per_second',
    help: 'Configured events per second (0 = as fast as possible)',
    registers: [registry],
  });
  for (const op of CHANGE_KINDS) {
    sent.inc({ op }, 0);
    acked.inc({ op }, 0);
    failed.inc({ op }, 0);
  }
  const add = (counter: Counter<'op'>, c: SendCounts): void => {
    c.byKind.forEach((n, i) => {
      if (n > 0) counter.inc({ op: CHANGE_KINDS[i]! }, n);
    });
  };
  return {
    registry,
    sent: (c) => add(sent, c),
    acked: (c) => add(acked, c),
    failed: (c) => {
      add(failed, c);
      errors.inc();
    },
    setInFlight: (n) => inFlight.set(n),
    setTargetRate: (perSec) => targetRate.set(perSec ?? 0),
  };
}
