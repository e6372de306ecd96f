import os from 'node:os';
import path from 'node:path';
import { sleep, waitFor } from '@cdc/core';
import { startCdc, type CdcProcess } from '@cdc/testing';
import { openBenchRun } from '../support/pipeline';
import { connectDashboard, cpuSecondsOf, groupLag, round, type DashboardClient } from './common';

/**
 * Idle CPU of the pipeline's services as `cdc start` runs them: `cdc enrich`, `cdc aggregate`,
 * `cdc ui` (one websocket client connected, as an open dashboard) and `cdc alerts` as child
 * processes on topics of their own, a short burst of events to prove the pipeline flows, then no
 * traffic for the measured window: CPU of each process from /proc/<pid>/stat, in % of one core.
 *
 * Several builds side by side: BENCH_IDLE_BUILDS="before=/work/wt/base/bin/cdc.js,after=." runs
 * each build in turn, BENCH_IDLE_ROUNDS times (alternating), each on fresh topics. One JSON line
 * per build and round. Settings (env): BENCH_IDLE_S (60), BENCH_IDLE_ROUNDS (1),
 * BENCH_PARTITIONS (3), BENCH_IDLE_BUILDS (this checkout).
 */
const SERVICES = ['enricher', 'aggregator', 'ui', 'alerts'] as const;
type Service = (typeof SERVICES)[number];

const IDLE_S = Number(process.env.BENCH_IDLE_S ?? 60);
const ROUNDS = Number(process.env.BENCH_IDLE_ROUNDS ?? 1);
const PARTITIONS = Number(process.env.BENCH_PARTITIONS ?? 3);
const BUILDS = (process.env.BENCH_IDLE_BUILDS ?? 'this=.')
  .split(',')
  .filter((s) => s.includes('='))
  .map((s) => {
    const [name, where] = s.split('=') as [string, string];
    const bin = where === '.' || where === '' ? undefined : where;
    return { name, bin };
  });

const say = (msg: string): void => void process.stderr.write(`[bench e2e/idle] ${msg}\n`);
const load1 = (): number => round(os.loadavg()[0]!, 2);

async function measure(build: { name: string; bin: string | undefined }, round_: number): Promise<void> {
  const run = await openBenchRun('idle');
  const { prefix, connection, topics, admin, tmp } = run;
  const db = path.join(tmp, 'aggregator.db');
  const cdc = (args: string[]): CdcProcess =>
    startCdc(args, { connection, env: { LOG_LEVEL: 'warn' }, bin: build.bin });
  const procs: CdcProcess[] = [];
  let client: DashboardClient | null = null;
  try {
    await cdc(['topics', 'create', '--partitions', String(PARTITIONS)]).expectExit(0, { timeoutMs: 60_000 });
    const services: Record<Service, CdcProcess> = {
      enricher: cdc(['enrich', '--ops-port', '0']),
      aggregator: cdc(['aggregate', '--db', db, '--ops-port', '0']),
      ui: cdc(['ui', '--port', '0', '--db', db]),
      alerts: cdc(['alerts', '--db', path.join(tmp, 'alerts.db'), '--ops-port', '0']),
    };
    procs.push(...Object.values(services));
    const url = (
      await services.ui.waitForOutput(/dashboard at (\S+)/, { stream: 'stdout', timeoutMs: 60_000 })
    )[1]!;
    await services.ui.waitFor(async () => (await fetch(`${url}/healthz`)).status === 200, {
      timeoutMs: 60_000,
      what: 'the dashboard to be ready',
    });
    client = await connectDashboard(url);
    // A burst proves the pipeline flows end to end (and warms the code paths), then it drains.
    await cdc(['produce', '--count', '500', '--seed', '1', '--no-progress', '--ops-port', '0']).expectExit(
      0,
      {
        timeoutMs: 60_000,
      },
    );
    await waitFor(() => client!.pushes.length > 0, { timeoutMs: 60_000, what: 'a push on the dashboard' });
    await waitFor(
      async () =>
        (await groupLag(admin, `${prefix}cdc-enricher`, topics.bronze)) === 0 &&
        (await groupLag(admin, `${prefix}cdc-aggregator`, topics.silver)) === 0,
      { timeoutMs: 60_000, intervalMs: 250, what: 'the pipeline to catch up' },
    );
    await sleep(5000);
    const pids = Object.fromEntries(SERVICES.map((s) => [s, services[s].child.pid!]));
    const cpu0 = Object.fromEntries(SERVICES.map((s) => [s, cpuSecondsOf(pids[s]!) ?? NaN]));
    const load0 = load1();
    const t0 = Date.now();
    await sleep(IDLE_S * 1000);
    const seconds = (Date.now() - t0) / 1000;
    const pct = Object.fromEntries(
      SERVICES.map((s) => [s, round((((cpuSecondsOf(pids[s]!) ?? NaN) - cpu0[s]!) / seconds) * 100, 2)]),
    );
    const all = round(
      SERVICES.reduce((a, s) => a + pct[s]!, 0),
      2,
    );
    // SIGTERM to every service at once, idle: how long each takes to exit (a consumer lets its
    // fetch in flight finish, so long polls can lengthen this).
    const stopMs = Object.fromEntries(
      await Promise.all(
        SERVICES.map(async (s) => {
          const t = Date.now();
          await services[s].stop('SIGTERM', { timeoutMs: 30_000 });
          return [s, Date.now() - t] as const;
        }),
      ),
    );
    const line = {
      bench: 'e2e-idle',
      build: build.name,
      round: round_,
      seconds: round(seconds, 1),
      cpu_percent_of_one_core: { ...pct, services: all },
      stop_ms: stopMs,
      load_average_1m: [load0, load1()],
      conditions: { bin: build.bin ?? 'this checkout', partitions: PARTITIONS, cpus: os.cpus().length },
    };
    say(
      `${build.name} round ${round_}: ${SERVICES.map((s) => `${s} ${pct[s]}`).join(', ')}, all ${all} % of a core; stop ${SERVICES.map((s) => stopMs[s]).join('/')} ms (load ${line.load_average_1m.join('→')})`,
    );
    process.stdout.write(`${JSON.stringify(line)}\n`);
  } finally {
    client?.close();
    await Promise.all(
      procs.map(async (p) => {
        if (p.running()) await p.stop('SIGTERM', { timeoutMs: 30_000 }).catch(() => p.kill());
      }),
    );
    await run.cleanup([`${prefix}cdc-enricher`, `${prefix}cdc-aggregator`, `${prefix}cdc-alerts`]);
  }
}

async function main(): Promise<void> {
  for (let r = 1; r <= ROUNDS; r++) {
    // Alternate the order each round so that neither build always runs first.
    const order = r % 2 === 1 ? BUILDS : [...BUILDS].reverse();
    for (const b of order) await measure(b, r);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
