import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { STATUS_JSON_SCHEMA, type StatusReport } from '@cdc/cli';
import { createTestContext, startCdc, type CdcProcess, type TestContext } from '@cdc/testing';

/**
 * `cdc status` against a running `cdc start` (on the shared stack, own topics): every line of the
 * screen, `--json` valid against its schema, exit 0 when healthy; against a broker that does not
 * answer it says so and exits 1. Also: a taken ops port and a child that exits 2 under `cdc start`.
 */
async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

describe('cdc status, ops ports, cdc start giving up on a child', () => {
  let ctx: TestContext;
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'cdc-status-'));
  const dbPath = path.join(tmp, 'aggregator.db');
  const validate = addFormats(new Ajv2020({ allErrors: true, strict: false })).compile(STATUS_JSON_SCHEMA);

  beforeAll(async () => {
    ctx = await createTestContext({ name: 'status' });
  });
  afterAll(async () => {
    await ctx.cleanup();
    rmSync(tmp, { recursive: true, force: true });
  });
  const cdc = (args: string[], env: Record<string, string> = {}): CdcProcess =>
    ctx.track(startCdc(args, { connection: ctx.connection, env }));

  test('against a running pipeline: every line, valid JSON, exit 0', async () => {
    // Free ops ports for the children (others may run a pipeline on the defaults on this host).
    const start = cdc(['start', '--no-produce', '--ui-port', String(await freePort()), '--db', dbPath], {
      CDC_LOG_DIR: path.join(tmp, 'logs'),
      ENRICHER_OPS_PORT: '0',
      AGGREGATOR_OPS_PORT: '0',
      ALERTS_OPS_PORT: '0',
    });
    await start.waitForOutput('Dashboard:', { timeoutMs: 120_000 });
    const status = async (): Promise<{ code: number | null; report: StatusReport; out: string }> => {
      const p = cdc(['status', '--json', '--db', dbPath]);
      const code = await p.exited;
      return { code, report: JSON.parse(p.stdout()) as StatusReport, out: p.stdout() };
    };

    // Old event times (the seed scenario's bookings of 2025-09-03) on a caught-up pipeline:
    // healthy, judged from processing (lag, how long records wait), the event-time age shown only.
    await cdc(['produce', '--scenario', 'seed']).expectExit(0);
    const caughtUp = await start.waitFor(
      async () => {
        const s = await status();
        return s.report.groups.length === 2 && s.report.groups.every((g) => g.lag === 0 && g.last_commit_at)
          ? s
          : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1000, what: 'the seed scenario to be applied' },
    );
    expect({ code: caughtUp.code, reasons: caughtUp.report.reasons }).toEqual({ code: 0, reasons: [] });
    expect(caughtUp.report.freshness.event_age_ms).toBeGreaterThan(86_400_000);
    expect(caughtUp.report.groups.map((g) => g.wait_ms)).toEqual([0, 0]);

    await cdc(['produce', '--count', '500', '--seed', '5']).expectExit(0);
    // Healthy once the aggregator has applied (and committed) what was produced.
    const healthy = await start.waitFor(
      async () => {
        const s = await status();
        return s.code === 0 && s.report.groups.every((g) => g.lag === 0 && g.last_commit_at) ? s : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1000, what: 'cdc status to report a healthy pipeline' },
    );
    expect(validate(healthy.report)).toBe(true);
    expect(validate.errors ?? []).toEqual([]);
    expect(healthy.report).toMatchObject({ healthy: true, reasons: [], dead_letters: 0, backfill: null });
    expect(healthy.report.topics.map((t) => t.role)).toEqual([
      'bronze',
      'silver',
      'gold',
      'dead-letter',
      'control',
    ]);
    expect(healthy.report.groups.map((g) => [g.stage, g.members])).toEqual([
      ['enricher', 1],
      ['aggregator', 1],
    ]);
    expect(healthy.report.aggregator.batches.length).toBeGreaterThan(0);
    expect(healthy.report.freshness.event_age_ms).not.toBeNull();

    const text = cdc(['status', '--db', dbPath]);
    expect(await text.exited).toBe(0);
    for (const line of [
      'pipeline HEALTHY',
      'kafka     up',
      'registry  up',
      'TOPICS',
      'bronze',
      'CONSUMER GROUPS',
      'lag per partition',
      'last commit',
      'AGGREGATOR',
      'changes',
      'DEAD LETTERS  0',
      'EVENT TIME',
      'oldest waiting',
      'BACKFILL      none running',
    ]) {
      expect(text.stdout()).toContain(line);
    }
    expect(await start.stop('SIGINT')).toBe(0);
  });

  test('against a broker that does not answer: says so, exit 1, still valid JSON', async () => {
    const down = { KAFKA_BROKERS: `127.0.0.1:${await freePort()}` };
    const text = cdc(['status', '--db', dbPath], down);
    expect(await text.exited).toBe(1);
    expect(text.stdout()).toMatch(/pipeline DEGRADED/);
    expect(text.stdout()).toMatch(/the Kafka broker at 127\.0\.0\.1:\d+ does not answer/);
    const json = cdc(['status', '--json', '--db', dbPath], down);
    expect(await json.exited).toBe(1);
    const report = JSON.parse(json.stdout()) as StatusReport;
    expect(validate(report)).toBe(true);
    expect(report.stack.broker.up).toBe(false);
  });

  test('a taken ops port names the option and the variable (exit 2); cdc start stops when a child exits 2', async () => {
    const holder = net.createServer();
    const port = await new Promise<number>((resolve) =>
      holder.listen(0, '127.0.0.1', () => resolve((holder.address() as net.AddressInfo).port)),
    );
    try {
      const enricher = cdc(['enrich', '--ops-port', String(port)]);
      await enricher.expectExit(2);
      expect(enricher.stderr()).toMatch(
        new RegExp(
          `error \\[CONFIG_INVALID\\]: port ${port} .* in use .*--ops-port <port> or ENRICHER_OPS_PORT=<port>`,
        ),
      );
      const start = cdc(['start', '--no-produce', '--ui-port', String(port), '--db', dbPath], {
        CDC_LOG_DIR: path.join(tmp, 'logs'),
        ENRICHER_OPS_PORT: '0',
        AGGREGATOR_OPS_PORT: '0',
        ALERTS_OPS_PORT: '0',
      });
      await start.expectExit(2, { timeoutMs: 120_000 });
      expect(start.stderr()).toMatch(
        /the live-ui cannot start \(exit code 2\), so the pipeline was stopped: .*--port <port> or UI_PORT=<port>/,
      );
    } finally {
      holder.close();
    }
  });
});
