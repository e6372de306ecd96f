import { Counter, Gauge, type Registry } from 'prom-client';
import { createMetricsRegistry } from '@cdc/observe';

/** The alerts service's Prometheus metrics (plus the default process metrics). */
export function createAlertsMetrics() {
  const registry: Registry = createMetricsRegistry('alerts');
  return {
    registry,
    snapshots: new Counter({
      name: 'alerts_gold_snapshots_total',
      help: 'Gold snapshots read',
      registers: [registry],
    }),
    undecodable: new Counter({
      name: 'alerts_gold_undecodable_total',
      help: 'Gold records that could not be decoded (skipped)',
      registers: [registry],
    }),
    transitions: new Counter({
      name: 'alerts_transitions_total',
      help: 'Alert transitions',
      labelNames: ['rule', 'status'],
      registers: [registry],
    }),
    active: new Gauge({
      name: 'alerts_active',
      help: 'Alerts pending or firing now',
      labelNames: ['phase'],
      registers: [registry],
    }),
    delivered: new Counter({
      name: 'alerts_notifications_delivered_total',
      help: 'Transitions delivered, per destination',
      labelNames: ['destination'],
      registers: [registry],
    }),
    deliveryFailures: new Counter({
      name: 'alerts_notification_failures_total',
      help: 'Failed delivery attempts (each is retried), per destination',
      labelNames: ['destination'],
      registers: [registry],
    }),
    backlog: new Gauge({
      name: 'alerts_notifications_pending',
      help: 'Transitions not delivered yet, per destination',
      labelNames: ['destination'],
      registers: [registry],
    }),
    eventLag: new Gauge({
      name: 'alerts_event_clock_lag_seconds',
      help: 'Wall clock minus the event clock the booking rules run on',
      registers: [registry],
    }),
  };
}

export type AlertsMetrics = ReturnType<typeof createAlertsMetrics>;
