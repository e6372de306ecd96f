import { Counter } from 'prom-client';
import type { Registry } from 'prom-client';
import { createMetricsRegistry } from '@cdc/observe';
import { CHANGE_KINDS, type ChangeKind } from '@cdc/bookings';

/** Prometheus metrics of a run that writes to the source database (`cdc produce --to postgres`). */
export interface SqlProducerMetrics {
  registry: Registry;
  committed(kinds: ChangeKind[]): void;
  refused(kind: ChangeKind): void;
}

/** In a registry of its own, or in `registry` (the catalogue in docs/metrics.md lists both producers' together). */
export function createSqlProducerMetrics(
  registry: Registry = createMetricsRegistry('producer'),
): SqlProducerMetrics {
  const labelNames = ['op'] as const;
  const committed = new Counter({
    name: 'cdc_producer_changes_committed_total',
    help: 'Changes committed to the source database (--to postgres), by kind of change',
    labelNames,
    registers: [registry],
  });
  const refused = new Counter({
    name: 'cdc_producer_changes_refused_total',
    help: 'Changes the source database refused (a constraint, a value out of range, a missing row), by kind of change',
    labelNames,
    registers: [registry],
  });
  const transactions = new Counter({
    name: 'cdc_producer_transactions_committed_total',
    help: 'Transactions committed to the source database (--to postgres)',
    registers: [registry],
  });
  for (const op of CHANGE_KINDS) {
    committed.inc({ op }, 0);
    refused.inc({ op }, 0);
  }
  return {
    registry,
    committed: (kinds) => {
      for (const op of kinds) committed.inc({ op });
      transactions.inc();
    },
    refused: (op) => refused.inc({ op }),
  };
}
