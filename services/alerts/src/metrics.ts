import { Counter, Gauge, type Registry } from 'prom-client';
import { createMetricsRegistry } from '@cdc/observe';

/** The alerts service's Prometheus metrics (plus the default process metrics). */
export function createAlertsMetrics() {
  const registry: Registry = createMetricsRegistry('alerts');
  return {
    registry,
    snapshots: new Counter({
      name: 'cdc_alerts_gold_records_total',
      help: 'Gold snapshots read',
      registers: [registry],
    }),
    undecodable: new Counter({
      name: 'cdc_alerts_gold_decode_errors_total',
      help: 'Gold records that could not be decoded (skipped)',
      registers: [registry],
    }),
    transitions: new Counter({
      name: 'cdc_alerts_transitions_total',
      help: 'Alert transitions',
      labelNames: ['rule', 'status'],
      registers: [registry],
    }),
    active: new Gauge({
      name: 'cdc_alerts_active',
      help: 'Alerts pending or firing now',
      labelNames: ['phase'],
      registers: [registry],
    }),
    delivered: new Counter({
      name: 'cdc_alerts_notifications_delivered_total',
      help: 'Transitions delivered, per destination',
      labelNames: ['destination'],
      registers: [registry],
    }),
    deliveryFailures: new Counter({
      name: 'cdc_alerts_notifications_failed_total',
      help: 'Failed delivery attempts (each is retried), per destination',
      labelNames: ['destination'],
      registers: [registry],
    }),
    backlog: new Gauge({
      name: 'cdc_alerts_notifications_pending',
      help: 'Transitions not delivered yet, per destination',
      labelNames: ['destination'],
      registers: [registry],
    }),
    eventLag: new Gauge({
      name: 'cdc_alerts_event_clock_lag_seconds',
      help: 'Wall clock minus the event clock the booking rules run on',
      registers: [registry],
    }),
  };
}

export type AlertsMetrics = ReturnType<typeof createAlertsMetrics>;
