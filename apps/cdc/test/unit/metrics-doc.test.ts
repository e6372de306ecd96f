import { readFileSync } from 'node:fs';
import path from 'node:path';
import { metricCatalog, metricsMarkdown, namingProblems } from '../../src/metrics-doc';

/**
 * docs/metrics.md is generated from the services' metric registries: a metric added, renamed or
 * re-labelled without regenerating it (`npm run docs:metrics`) fails here, and so does a name
 * that breaks the convention.
 */
describe('metrics by convention', () => {
  const catalog = metricCatalog();

  it('every metric keeps the naming convention', () => {
    expect(namingProblems(catalog)).toEqual([]);
  });

  it('docs/metrics.md documents every metric and is current', () => {
    const doc = readFileSync(path.join(__dirname, '../../../../docs/metrics.md'), 'utf8');
    for (const m of catalog) expect(doc).toContain(`\`${m.name}\``);
    expect(doc).toBe(metricsMarkdown(catalog));
  });

  it('the Grafana dashboard and the Prometheus rules read only metrics that exist', () => {
    const names = new Set(catalog.map((m) => m.name));
    const root = path.join(__dirname, '../../../../deploy');
    for (const file of ['grafana/cdc-pipeline.json', 'prometheus/cdc-rules.yml']) {
      const text = readFileSync(path.join(root, file), 'utf8');
      const used = [...text.matchAll(/\bcdc_[a-z_]+/g)]
        .map((m) => m[0].replace(/_(bucket|sum|count)$/, ''))
        .filter((n) => !n.endsWith('_'));
      expect(used.length).toBeGreaterThan(3);
      expect({ file, unknown: used.filter((n) => !names.has(n)) }).toEqual({ file, unknown: [] });
    }
  });

  it('finds what breaks the convention', () => {
    const m = { service: 'enricher', type: 'counter', help: 'x', labels: [] };
    expect(
      namingProblems([
        { ...m, name: 'enricher_records_in_total' },
        { ...m, name: 'cdc_enricher_records' },
        { ...m, name: 'cdc_enricher_lag', type: 'gauge', labels: ['partition'] },
        {
          ...m,
          name: 'cdc_aggregator_lag_records',
          service: 'aggregator',
          type: 'gauge',
          labels: ['topic', 'partition'],
        },
        { ...m, name: 'cdc_enricher_lag_records', type: 'gauge', labels: ['partition'] },
      ]),
    ).toEqual([
      'enricher_records_in_total: should start with cdc_enricher_',
      'cdc_enricher_records: a counter ends in _total',
      'cdc_enricher_lag: its name should end in its unit (_seconds, _bytes, _records, _per_second, _total)',
      '*_lag_records: label sets differ (cdc_aggregator_lag_records{topic,partition} vs cdc_enricher_lag_records{partition})',
    ]);
  });
});
