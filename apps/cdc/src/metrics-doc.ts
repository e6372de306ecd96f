import type { Registry } from 'prom-client';
import { createAggregatorMetrics } from '@cdc/aggregator';
import { createAlertsMetrics } from '@cdc/alerts';
import { CaptureMetrics } from '@cdc/capture';
import { EnricherMetrics } from '@cdc/enricher';
import { createLiveUiMetrics } from '@cdc/live-ui';
import { createMetricsRegistry } from '@cdc/observe';
import { createProducerMetrics } from '@cdc/producer';

/**
 * The catalogue of the pipeline's metrics, read from each service's own metric registry (the
 * objects the services serve on /metrics), so `docs/metrics.md` is generated rather than kept by
 * hand (`node scripts/metrics-doc.js`; a unit test fails when it is stale), and the naming
 * convention is checked in one place:
 *
 * - every metric is `cdc_<stage>_…` (the stage as a consistent prefix; each service also labels
 *   every sample with `service`);
 * - counters end in `_total`, nothing else does; a unit (`_seconds`, `_bytes`, `_records`, …)
 *   ends the name of a measured quantity;
 * - the same concept has the same labels in every service (consumer lag: `topic`, `partition`).
 *
 * The process and Node.js metrics prom-client adds to every registry (`process_*`, `nodejs_*`)
 * keep their standard names: the dashboards users already have read them.
 */
export interface MetricInfo {
  /** The `service` label its samples carry. */
  service: string;
  name: string;
  type: string;
  help: string;
  labels: string[];
}

const STAGES: { service: string; prefix: string; registry: () => Registry }[] = [
  { service: 'producer', prefix: 'cdc_producer_', registry: () => createProducerMetrics().registry },
  { service: 'capture', prefix: 'cdc_capture_', registry: () => new CaptureMetrics().registry },
  { service: 'enricher', prefix: 'cdc_enricher_', registry: () => new EnricherMetrics().registry },
  { service: 'aggregator', prefix: 'cdc_aggregator_', registry: () => createAggregatorMetrics().registry },
  { service: 'live-ui', prefix: 'cdc_live_ui_', registry: liveUiRegistry },
  { service: 'alerts', prefix: 'cdc_alerts_', registry: () => createAlertsMetrics().registry },
];

function liveUiRegistry(): Registry {
  const registry = createMetricsRegistry('live-ui');
  createLiveUiMetrics(registry);
  return registry;
}

const isDefault = (name: string): boolean => name.startsWith('process_') || name.startsWith('nodejs_');

/** Every metric of every service, in the order of the pipeline's stages, then by name. */
export function metricCatalog(): MetricInfo[] {
  return STAGES.flatMap(({ service, registry }) => {
    const r = registry();
    const infos = r
      .getMetricsAsArray()
      .filter((m) => !isDefault(m.name))
      .map((m) => {
        const withLabels = m as unknown as { labelNames?: string[]; type: unknown; help: string };
        return {
          service,
          name: m.name,
          type: String(withLabels.type),
          help: withLabels.help,
          labels: [...(withLabels.labelNames ?? [])],
        };
      })
      .sort((a, b) => a.name.localeCompare(b.name));
    r.clear();
    return infos;
  });
}

const UNITS = ['_seconds', '_bytes', '_records', '_per_second', '_total'];
/** Gauges counting things by name (clients, alerts, snapshots) rather than by a unit. */
const COUNTED = /_(clients|active|pending|in_flight|version)$/;

/** Where the catalogue breaks the naming convention (empty when it keeps it). */
export function namingProblems(catalog: readonly MetricInfo[]): string[] {
  const problems: string[] = [];
  const prefixOf = new Map(STAGES.map((s) => [s.service, s.prefix]));
  for (const m of catalog) {
    const prefix = prefixOf.get(m.service)!;
    if (!m.name.startsWith(prefix)) problems.push(`${m.name}: should start with ${prefix}`);
    if (m.type === 'counter' && !m.name.endsWith('_total'))
      problems.push(`${m.name}: a counter ends in _total`);
    if (m.type !== 'counter' && m.name.endsWith('_total'))
      problems.push(`${m.name}: only counters end in _total`);
    if (m.type !== 'counter' && !UNITS.some((u) => m.name.endsWith(u)) && !COUNTED.test(m.name))
      problems.push(`${m.name}: its name should end in its unit (${UNITS.join(', ')})`);
    if (!m.help) problems.push(`${m.name}: has no help text`);
  }
  // The same concept, the same labels: metrics that share a suffix after the stage share labels.
  const bySuffix = new Map<string, MetricInfo[]>();
  for (const m of catalog) {
    const suffix = m.name.slice(prefixOf.get(m.service)!.length);
    bySuffix.set(suffix, [...(bySuffix.get(suffix) ?? []), m]);
  }
  for (const [suffix, ms] of bySuffix) {
    const sets = new Set(ms.map((m) => [...m.labels].sort().join(',')));
    if (sets.size > 1)
      problems.push(
        `*_${suffix}: label sets differ (${ms.map((m) => `${m.name}{${m.labels.join(',')}}`).join(' vs ')})`,
      );
  }
  return problems;
}

/** `docs/metrics.md`. */
export function metricsMarkdown(catalog: readonly MetricInfo[] = metricCatalog()): string {
  const out = [
    '# Metrics',
    '',
    "<!-- Generated from the services' metric registries by `node scripts/metrics-doc.js`; do not edit by hand. -->",
    '',
    'Every service serves these on `GET /metrics` (Prometheus text format) next to `/healthz`. Names follow one',
    'convention: `cdc_<stage>_…`, counters end in `_total`, a measured quantity ends in its unit, and every sample',
    'carries the `service` label. The process and Node.js metrics (`process_*`, `nodejs_*`) that every service',
    'also serves keep their standard names. Alerting rules over these: `deploy/prometheus/`; a dashboard:',
    '`deploy/grafana/`.',
  ];
  for (const { service } of STAGES) {
    out.push('', `## ${service}`, '', '| metric | type | labels | meaning |', '| --- | --- | --- | --- |');
    for (const m of catalog.filter((c) => c.service === service)) {
      const labels = m.labels.length ? m.labels.map((l) => `\`${l}\``).join(', ') : '';
      out.push(`| \`${m.name}\` | ${m.type} | ${labels} | ${m.help.replace(/\|/g, '\\|')} |`);
    }
  }
  return `${out.join('\n')}\n`;
}
