import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { waitFor } from '@cdc/core';
import { createTestContext, REPO_ROOT, startCdc, type CdcProcess, type TestContext } from '@cdc/testing';

/**
 * Monitoring as code with the real tools (Debian's prometheus package, installed by
 * `scripts/ensure-installed.js --monitoring` before `npm test`): the rule file passes
 * `promtool check rules` and its unit tests (`promtool test rules`), and a real Prometheus scrapes
 * every service of a running pipeline (`cdc start` plus a `cdc produce` with its ops port) and
 * answers PromQL over the documented metric names, with the rule file loaded.
 */
const PROMETHEUS = process.env.PROMETHEUS_PATH ?? '/usr/bin/prometheus';
const PROMTOOL = process.env.PROMTOOL_PATH ?? '/usr/bin/promtool';
const RULES_DIR = path.join(REPO_ROOT, 'deploy', 'prometheus');

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function promtool(args: string[]): { status: number | null; out: string } {
  const r = spawnSync(PROMTOOL, args, { cwd: RULES_DIR, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

describe('monitoring as code: promtool and a real Prometheus', () => {
  beforeAll(() => {
    for (const bin of [PROMETHEUS, PROMTOOL]) {
      if (!existsSync(bin))
        throw new Error(
          `${bin} is missing: run \`node scripts/ensure-installed.js --monitoring\` (Debian's prometheus package) or set PROMETHEUS_PATH/PROMTOOL_PATH`,
        );
    }
  });

  test('the rule file passes promtool check rules and its unit tests', () => {
    const check = promtool(['check', 'rules', 'cdc-rules.yml']);
    expect(check.out).toMatch(/SUCCESS: 8 rules found/);
    expect(check.status).toBe(0);
    const unit = promtool(['test', 'rules', 'cdc-rules.test.yml']);
    expect(unit.out).toMatch(/SUCCESS/);
    expect(unit.status).toBe(0);
  });

  describe('a real Prometheus scraping a running pipeline', () => {
    let ctx: TestContext;
    let prometheus: ChildProcess | null = null;
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'cdc-prometheus-'));
    beforeAll(async () => {
      ctx = await createTestContext({ name: 'prometheus' });
    });
    afterAll(async () => {
      if (prometheus && prometheus.exitCode === null) {
        prometheus.kill('SIGTERM');
        await once(prometheus, 'exit');
      }
      await ctx.cleanup();
      rmSync(tmp, { recursive: true, force: true });
    });
    const cdc = (args: string[], env: Record<string, string> = {}): CdcProcess =>
      ctx.track(startCdc(args, { connection: ctx.connection, env }));

    test('scrapes every service (up == 1) and answers PromQL over the cdc_ metrics, rules loaded', async () => {
      const ports = {
        enricher: await freePort(),
        aggregator: await freePort(),
        'live-ui': await freePort(),
        alerts: await freePort(),
        producer: await freePort(),
        prometheus: await freePort(),
      };
      const start = cdc(
        ['start', '--no-produce', '--ui-port', String(ports['live-ui']), '--db', path.join(tmp, 'agg.db')],
        {
          CDC_LOG_DIR: path.join(tmp, 'logs'),
          ENRICHER_OPS_PORT: String(ports.enricher),
          AGGREGATOR_OPS_PORT: String(ports.aggregator),
          ALERTS_OPS_PORT: String(ports.alerts),
          ALERTS_DB_PATH: path.join(tmp, 'alerts.db'),
        },
      );
      await start.waitForOutput('Dashboard:', { timeoutMs: 120_000 });
      // A producer that runs while Prometheus scrapes it (a batch job: it serves /metrics while it runs).
      const producer = cdc([
        'produce',
        '--count',
        '1000000',
        '--rate',
        '200',
        '--seed',
        '29',
        '--no-progress',
        '--ops-port',
        String(ports.producer),
      ]);

      const jobs = Object.entries(ports)
        .filter(([job]) => job !== 'prometheus')
        .map(
          ([job, port]) =>
            `  - job_name: cdc-${job}\n    static_configs: [{ targets: ['127.0.0.1:${port}'] }]`,
        );
      const config = path.join(tmp, 'prometheus.yml');
      writeFileSync(
        config,
        [
          'global: { scrape_interval: 1s, evaluation_interval: 1s }',
          `rule_files: ['${path.join(RULES_DIR, 'cdc-rules.yml')}']`,
          'scrape_configs:',
          ...jobs,
          '',
        ].join('\n'),
      );
      const base = `http://127.0.0.1:${ports.prometheus}`;
      prometheus = spawn(
        PROMETHEUS,
        [
          `--config.file=${config}`,
          `--storage.tsdb.path=${path.join(tmp, 'tsdb')}`,
          `--web.listen-address=127.0.0.1:${ports.prometheus}`,
        ],
        { stdio: 'ignore' },
      );
      const query = async (q: string): Promise<Sample[]> => {
        const res = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(q)}`);
        const body = (await res.json()) as { status: string; data: { result: Sample[] } };
        if (body.status !== 'success') throw new Error(`${q}: ${JSON.stringify(body)}`);
        return body.data.result;
      };

      // Every service up, scraped by the real Prometheus.
      const up = await waitFor(
        async () => {
          const r = await query('up{job=~"cdc-.*"} == 1').catch(() => []);
          return r.length === 5 ? r : undefined;
        },
        { timeoutMs: 90_000, intervalMs: 1000, what: 'Prometheus to scrape all five services' },
      );
      expect(up.map((s) => s.metric.job).sort()).toEqual([
        'cdc-aggregator',
        'cdc-alerts',
        'cdc-enricher',
        'cdc-live-ui',
        'cdc-producer',
      ]);
      // PromQL over the pipeline's metrics: records flowed through every stage.
      const flowed = await waitFor(
        async () => {
          const r = await query(
            'sum(cdc_producer_events_acked_total) > 0 and sum(cdc_enricher_records_out_total) > 0 and sum(cdc_aggregator_changes_applied_total) > 0',
          );
          return r.length === 1 ? r : undefined;
        },
        {
          timeoutMs: 90_000,
          intervalMs: 1000,
          what: 'records counted by the producer, enricher and aggregator',
        },
      );
      expect(Number(flowed[0]!.value[1])).toBeGreaterThan(0);
      // The same labels for the same concept: both consumer lags by topic and partition.
      const lag = await query(
        'sum by (job, topic) ({__name__=~"cdc_(enricher|aggregator)_consumer_lag_records"})',
      );
      expect(lag.map((s) => s.metric.job).sort()).toEqual(['cdc-aggregator', 'cdc-enricher']);
      expect(lag.map((s) => s.metric.topic).sort()).toEqual([ctx.topics.bronze, ctx.topics.silver].sort());
      // The rule file is loaded and evaluated on the real metrics; a healthy pipeline fires nothing.
      const rules = (await (await fetch(`${base}/api/v1/rules`)).json()) as {
        data: { groups: { rules: { name: string; health: string }[] }[] };
      };
      const loaded = rules.data.groups.flatMap((g) => g.rules);
      expect(loaded).toHaveLength(8);
      expect(await query('ALERTS{alertstate="firing"}')).toEqual([]);

      await producer.stop();
      expect(await start.stop('SIGINT')).toBe(0);
    });
  });
});
