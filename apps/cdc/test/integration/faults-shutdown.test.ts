import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { waitFor } from '@cdc/core';
import {
  createTestContext,
  endOffsets,
  startCdc,
  startFaultStack,
  type CdcProcess,
  type FaultStack,
  type TestContext,
} from '@cdc/testing';
import {
  appliedOffsets,
  committedSum,
  duplicates,
  eventIds,
  report,
  sum,
  timedStop,
} from '../support/faults';

/**
 * Stopping always works (issue 17), on a private broker and registry: every long-running command
 * exits within its deadline after SIGTERM whether the broker is up, stopped or hanging (SIGSTOP),
 * says what it abandoned, and loses and duplicates nothing when started again. `cdc start` stops
 * on Ctrl-C with the broker down and leaves no child behind. Times are printed; the assertions
 * are the deadline plus a margin for starting and ending a Node process on a busy machine.
 */
const DEADLINE_MS = 6000;
const MARGIN_MS = 4000;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

const childrenOf = (pid: number): number[] => {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
};
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('faults: stopping with the broker up, down or hanging', () => {
  let stack: FaultStack;
  let ctx: TestContext;
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'cdc-shutdown-'));
  const dbPath = path.join(tmp, 'aggregator.db');
  const alertsDb = path.join(tmp, 'alerts.db');
  const procs: CdcProcess[] = [];

  beforeAll(async () => {
    stack = await startFaultStack('shutdown');
    ctx = await createTestContext({ name: 'shutdown', partitions: 3, env: stack.env });
  }, 240_000);
  afterAll(async () => {
    for (const p of procs) await p.close();
    stack?.kafka.resume();
    await ctx?.cleanup().catch(() => undefined);
    await stack?.cleanup();
    rmSync(tmp, { recursive: true, force: true });
  });

  const cdc = (args: string[], env: Record<string, string> = {}): CdcProcess => {
    const p = startCdc(args, {
      connection: ctx.connection,
      env: { LOG_LEVEL: 'info', SHUTDOWN_TIMEOUT_MS: String(DEADLINE_MS), ...env },
    });
    procs.push(p);
    return p;
  };
  const applied = () => appliedOffsets(dbPath, ctx.topics.silver);
  const enriched = () => committedSum(ctx, `${ctx.connection.topicPrefix}cdc-enricher`, ctx.topics.bronze);

  /** When `cdc alerts` last saved its state (epoch ms), from its database. */
  const alertsSavedAt = (): number => {
    const db = new Database(alertsDb, { readonly: true, fileMustExist: true });
    try {
      return (
        (db.prepare('SELECT saved_at FROM engine_state WHERE id = 1').pluck().get() as number | undefined) ??
        0
      );
    } finally {
      db.close();
    }
  };

  /** The five services, running and making progress. */
  async function startAll(seed: number): Promise<Record<string, CdcProcess>> {
    const services = {
      enricher: cdc(['enrich', '--ops-port', '0']),
      aggregator: cdc(['aggregate', '--db', dbPath, '--ops-port', '0']),
      ui: cdc(['ui', '--db', dbPath, '--port', '0']),
      alerts: cdc(['alerts', '--db', alertsDb, '--ops-port', '0']),
      producer: cdc(['produce', '--rate', '200', '--seed', String(seed), '--ops-port', '0', '--no-progress']),
    };
    const from = applied();
    await waitFor(() => applied() > from, { timeoutMs: 90_000, what: 'the pipeline to move' });
    await services.ui.waitForOutput('gold topic read', { timeoutMs: 60_000 });
    await services.alerts.waitForOutput('alerts running', { timeoutMs: 60_000 });
    return services;
  }

  /** SIGTERM to all at once; every one must exit within the deadline (plus margin). */
  async function stopAll(services: Record<string, CdcProcess>, condition: string): Promise<void> {
    const results = await Promise.all(
      Object.entries(services).map(async ([name, p]) => ({ name, p, ...(await timedStop(p)) })),
    );
    for (const r of results) {
      report(`SIGTERM with the broker ${condition} → ${r.name} exited ${r.code}`, r.ms);
      expect(r.ms).toBeLessThan(DEADLINE_MS + MARGIN_MS);
      // 0 after a clean stop; 1 only with one line saying what was abandoned.
      expect([0, 1]).toContain(r.code);
      if (r.code === 1) expect(r.p.stderr()).toMatch(/abandoned/);
    }
  }

  test('broker stopped, then SIGTERM: every service exits within the deadline', async () => {
    const services = await startAll(11);
    await stack.kafka.stop();
    await services.producer!.waitForOutput('Kafka broker unreachable', { timeoutMs: 20_000 });
    const stopAt = Date.now();
    await stopAll(services, 'stopped');
    // The alerts service saved its state on the way out, before any client waited for the broker.
    expect(alertsSavedAt()).toBeGreaterThanOrEqual(stopAt);
  });

  test('broker hanging (SIGSTOP), then SIGTERM: every service exits within the deadline', async () => {
    await stack.kafka.start();
    const services = await startAll(12);
    stack.kafka.pause();
    try {
      // One more enricher, started against the hanging broker: stopped while it is still starting
      // (a client call that does not listen to the signal), the deadline holds all the same.
      const starting = cdc(['enrich', '--ops-port', '0', '--instance-id', 'starting']);
      await starting.waitForOutput('ops endpoints', { timeoutMs: 30_000 });
      const stopAt = Date.now();
      await stopAll({ ...services, 'enricher starting': starting }, 'paused (SIGSTOP)');
      expect(alertsSavedAt()).toBeGreaterThanOrEqual(stopAt);
    } finally {
      stack.kafka.resume();
    }
  });

  test('started again with the broker back: nothing lost, nothing duplicated', async () => {
    const enricher = cdc(['enrich', '--ops-port', '0']);
    const aggregator = cdc(['aggregate', '--db', dbPath, '--ops-port', '0']);
    const bronzeEnd = sum(await endOffsets(ctx, ctx.topics.bronze));
    await waitFor(async () => (await enriched()) >= bronzeEnd, {
      timeoutMs: 120_000,
      what: 'the enricher to catch up',
    });
    const bronze = await eventIds(ctx, ctx.topics.bronze, 'bronze');
    expect(duplicates(bronze)).toEqual([]);
    const silver = await eventIds(ctx, ctx.topics.silver, 'silver');
    expect(duplicates(silver)).toEqual([]);
    expect(new Set(silver)).toEqual(new Set(bronze));
    const silverEnd = sum(await endOffsets(ctx, ctx.topics.silver));
    await waitFor(() => applied() >= silverEnd, {
      timeoutMs: 60_000,
      what: 'the aggregator to reach the end',
    });
    // The alerts service resumes from the state it saved while the broker was down or hanging.
    const alerts = cdc(['alerts', '--db', alertsDb, '--ops-port', '0']);
    await alerts.waitForOutput('alerts running', { timeoutMs: 60_000 });
    const e = await timedStop(enricher);
    const a = await timedStop(aggregator);
    const al = await timedStop(alerts);
    report('SIGTERM with the broker up → enricher', e.ms);
    report('SIGTERM with the broker up → aggregator', a.ms);
    report('SIGTERM with the broker up → alerts', al.ms);
    expect([e.code, a.code, al.code]).toEqual([0, 0, 0]);
  });

  test('cdc start with the broker stopped: Ctrl-C stops it within the deadline, no child left', async () => {
    // Free ops ports for the children (others may run a pipeline on the defaults on this host).
    const start = cdc(['start', '--no-produce', '--ui-port', String(await freePort()), '--db', dbPath], {
      CDC_LOG_DIR: path.join(tmp, 'logs'),
      ENRICHER_OPS_PORT: '0',
      AGGREGATOR_OPS_PORT: '0',
      ALERTS_OPS_PORT: '0',
    });
    await start.waitForOutput('Dashboard:', { timeoutMs: 120_000 });
    const children = childrenOf(start.child.pid!);
    expect(children.length).toBe(4); // enricher, aggregator, live UI, alerts
    await stack.kafka.stop();
    await start.waitForOutput('Kafka broker unreachable', { timeoutMs: 30_000 });
    const r = await timedStop(start, 'SIGINT');
    report(`Ctrl-C on cdc start with the broker stopped → exited ${r.code}`, r.ms);
    expect(r.ms).toBeLessThan(DEADLINE_MS + MARGIN_MS);
    expect(children.filter(alive)).toEqual([]);
  });
});
