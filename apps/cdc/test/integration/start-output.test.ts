import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { topicNames } from '@cdc/core';
import { createTestContext, startCdc, type CdcProcess, type TestContext } from '@cdc/testing';
import { appliedOffsets } from '../support/faults';

/**
 * What `npm start` shows: `cdc start` as users run it (default log level, sample producer on),
 * against the test stack with topics of its own. One line per service as it becomes ready, the
 * dashboard's address, then nothing while the pipeline is healthy; every service's log in its
 * file under the log folder; Ctrl-C stops it quietly.
 *
 * On a fresh clone npm adds 4 lines (its banner) and the first install 2, and a local stack not
 * yet running adds a "starting" line: the budget of ~15 lines before the address leaves `cdc
 * start` itself 10.
 */
const SERVICES = ['enricher', 'aggregator', 'live-ui', 'alerts', 'producer'];
const MAX_LINES_BEFORE_DASHBOARD = 10;
/** How long the healthy pipeline is watched for output it should not print. */
const OBSERVATION_MS = 15_000;

const lines = (text: string): string[] => text.split('\n').filter((l, i, all) => i < all.length - 1 || l);

describe('cdc start output', () => {
  let ctx: TestContext;
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'cdc-start-output-'));
  const dbPath = path.join(tmp, 'aggregator.db');
  const logDir = path.join(tmp, 'logs');

  beforeAll(async () => {
    ctx = await createTestContext({ name: 'start-output' });
  });
  afterAll(async () => {
    await ctx.cleanup();
    rmSync(tmp, { recursive: true, force: true });
  });

  test('one line per ready service, the dashboard, then quiet while healthy; logs in files', async () => {
    const start: CdcProcess = ctx.track(
      startCdc(['start', '--ui-port', '0', '--producer-ops-port', '0', '--db', dbPath, '--log-dir', logDir], {
        connection: ctx.connection,
        env: {
          LOG_LEVEL: undefined, // the default a user has (info), not the test kit's
          ENRICHER_OPS_PORT: '0',
          AGGREGATOR_OPS_PORT: '0',
          ALERTS_OPS_PORT: '0',
          ALERTS_DB_PATH: path.join(tmp, 'alerts.db'),
        },
      }),
    );
    await start.waitForOutput(/Stop: Ctrl-C.*\n\n/, { stream: 'stdout', timeoutMs: 120_000 });
    const stdoutAtDashboard = start.stdout();
    const stderrAtDashboard = start.stderr();
    const before = lines(stdoutAtDashboard.slice(0, stdoutAtDashboard.indexOf('  Dashboard:')));
    const shown = [...before, ...lines(stderrAtDashboard)];
    process.stdout.write(`[measured] cdc start printed ${shown.length} lines before the dashboard address\n`);
    expect(lines(stderrAtDashboard)).toEqual([]);
    expect(shown.length).toBeLessThanOrEqual(MAX_LINES_BEFORE_DASHBOARD);
    for (const service of SERVICES) {
      expect(before).toContainEqual(
        expect.stringMatching(
          new RegExp(`^ready +${service} +http://127\\.0\\.0\\.1:\\d+/healthz +log .*${service}\\.log$`),
        ),
      );
    }

    // Healthy: changes flow from the producer through the enricher to the aggregator, during
    // the whole window in which nothing may be printed.
    const silver = topicNames(ctx.connection.topicPrefix).silver;
    await start.waitFor(() => appliedOffsets(dbPath, silver) > 50, {
      timeoutMs: 90_000,
      what: 'the aggregator to apply the sample changes',
    });
    const appliedBefore = appliedOffsets(dbPath, silver);
    const observedUntil = Date.now() + OBSERVATION_MS;
    await start.waitFor(
      () =>
        Date.now() >= observedUntil ||
        start.stdout() !== stdoutAtDashboard ||
        start.stderr() !== stderrAtDashboard,
      {
        timeoutMs: OBSERVATION_MS + 5000,
        what: 'the observation window to end',
      },
    );
    expect({ stdout: start.stdout().slice(stdoutAtDashboard.length), stderr: start.stderr() }).toEqual({
      stdout: '',
      stderr: '',
    });
    expect(appliedOffsets(dbPath, silver)).toBeGreaterThan(appliedBefore);

    // Each service's log is in its file: its JSON records (at the default level) and any plain
    // line it printed (the live UI's address).
    for (const service of [...SERVICES, 'start']) {
      const file = path.join(logDir, `${service}.log`);
      expect(existsSync(file)).toBe(true);
      const records = lines(readFileSync(file, 'utf8'))
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { service: string });
      expect(records.length).toBeGreaterThan(0);
      expect(new Set(records.map((r) => r.service))).toEqual(new Set([service]));
    }
    expect(readFileSync(path.join(logDir, 'enricher.log'), 'utf8')).toContain('ops endpoints');

    // Ctrl-C: the services stop gracefully, once each, and the terminal says so in two lines.
    expect(await start.stop('SIGINT', { timeoutMs: 30_000 })).toBe(0);
    expect(lines(start.stdout().slice(stdoutAtDashboard.length))).toEqual([
      '',
      'stopping the pipeline services…',
      `stopped (logs in ${logDir})`,
    ]);
    expect(start.stderr()).toBe('');
    expect(readFileSync(path.join(logDir, 'enricher.log'), 'utf8')).not.toContain('again: exiting now');
  });
});
