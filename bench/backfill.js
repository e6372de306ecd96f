// Backfill throughput while the live pipeline runs: bronze pre-filled with BENCH_EVENTS events
// (default 300,000) by `cdc produce`, the live enricher (`cdc enrich`, a child process) caught up
// on them, a paced producer (`cdc produce --rate 1000`, a child process) writing 1,000 events/s
// throughout, then the backfill (in this process, so its CPU is measured) re-derives all of
// bronze in another time zone. Reports re-derived events/s (the backfill's run, and from its
// first commit on) and the live enricher's lag meanwhile (records behind bronze's end, sampled
// every 250 ms). BENCH_AGGREGATOR=1 also runs the live aggregator (`cdc aggregate`) and samples
// the freshness of its database every 250 ms (now minus the newest live change applied: the
// paced producer stamps changes with the time it writes them) before, during and after the
// backfill: how long the dashboard's numbers fall behind while a backfill runs. Prints one JSON
// line; deletes its topics and the database.
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const os = require('node:os');
const path = require('node:path');
const core = require('../packages/core/dist');
const observe = require('../packages/observe/dist');
const enricher = require('../services/enricher/dist');
const readModel = require('../packages/read-model/dist');

const cdc = path.join(__dirname, '..', 'bin', 'cdc.js');
const events = Number(process.env.BENCH_EVENTS ?? 300_000);
const liveRate = Number(process.env.BENCH_LIVE_RATE ?? 1000);
/** BENCH_LIVE=0: no live enricher and producer (the backfill alone, for comparison). */
const live = process.env.BENCH_LIVE !== '0';
/** BENCH_AGGREGATOR=1: the live aggregator too, and its freshness sampled. */
const withAggregator = live && process.env.BENCH_AGGREGATOR === '1';
const progress = (text) => process.stderr.write(`[bench backfill] ${text}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] : null);
const quantile = (xs, q) =>
  xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * q))] : null;

async function main() {
  const prefix = `bench-backfill-${require('node:crypto').randomBytes(4).toString('hex')}.`;
  const env = { ...process.env, TOPIC_PREFIX: prefix, LOG_LEVEL: 'warn' };
  const connection = core.loadConnectionConfig(env);
  const logger = core.createLogger('bench-backfill', 'warn');
  const kafka = core.createKafka(connection, logger);
  const admin = kafka.admin();
  await admin.connect();
  const topics = core.topicNames(prefix);
  const children = [];
  const dbDir = require('node:fs').mkdtempSync(path.join(os.tmpdir(), 'bench-backfill-'));
  const dbPath = path.join(dbDir, 'aggregator.db');
  const registry = core.createRegistryClient(connection.registryUrl);
  const control = core.createControlClient({
    kafka,
    registry,
    topic: topics.control,
    logger,
    groupPrefix: `${prefix}bench`,
  });
  try {
    spawnSync(process.execPath, [cdc, 'topics', 'create'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    const fill = spawnSync(
      process.execPath,
      [cdc, 'produce', '--count', String(events), '--rate', 'max', '--seed', '7', '--no-progress'],
      { env, stdio: ['ignore', 'ignore', 'inherit'] },
    );
    if (fill.status !== 0) throw new Error('pre-filling bronze failed');
    progress(`bronze pre-filled with ${events} events (${prefix}*)`);

    const start = (args) => {
      const child = spawn(process.execPath, [cdc, ...args], { env, stdio: ['ignore', 'ignore', 'inherit'] });
      children.push(child);
      return child;
    };
    if (live) start(['enrich', '--ops-port', '0']);
    if (withAggregator) start(['aggregate', '--db', dbPath, '--ops-port', '0']);
    /** Now minus the newest change time in the aggregator's database (ms), or null. */
    const freshness = () => {
      try {
        const db = readModel.openReadOnly(dbPath);
        try {
          const row = db.prepare('SELECT MAX(updated_at) AS t FROM bookings').get();
          return row && row.t ? Date.now() - row.t : null;
        } finally {
          db.close();
        }
      } catch {
        return null;
      }
    };
    const liveGroup = `${prefix}cdc-enricher`;
    const lag = async () => (await observe.groupLag(admin, liveGroup, topics.bronze)).total;
    if (live) {
      const t0 = Date.now();
      await core.waitFor(async () => (await lag()) === 0, {
        timeoutMs: 15 * 60_000,
        intervalMs: 500,
        what: 'the live enricher to catch up',
      });
      progress(`live enricher caught up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      start(['produce', '--rate', String(liveRate), '--no-progress', '--ops-port', '0']);
      await sleep(3000);
    }
    const freshBefore = [];
    if (withAggregator) {
      await core.waitFor(() => (freshness() ?? Infinity) < 2000, {
        timeoutMs: 10 * 60_000,
        intervalMs: 500,
        what: 'the live aggregator to catch up',
      });
      for (let i = 0; i < 40; i++) {
        freshBefore.push(freshness());
        await sleep(250);
      }
    }
    const lagBefore = live ? await lag() : null;

    const lags = [];
    const freshDuring = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        if (live) lags.push(await lag().catch(() => null));
        if (withAggregator) freshDuring.push(freshness());
        await sleep(250);
      }
    })();
    const bronzeBefore = (await admin.fetchTopicOffsets(topics.bronze)).reduce(
      (s, p) => s + Number(p.high),
      0,
    );
    const config = enricher.loadEnricherConfig({ ...env, ENRICHER_OPS_PORT: '0' });
    const deps = { config, kafka, admin, registry, control, logger };
    const cpuBefore = process.cpuUsage();
    const started = Date.now();
    const plan = await enricher.planBackfill(deps, {
      timeZone: 'America/New_York',
      from: { kind: 'beginning' },
    });
    const planMs = Date.now() - started;
    let first = null;
    let last = null;
    const executeStarted = Date.now();
    const cpuExecuteBefore = process.cpuUsage();
    let runStats = null;
    const finished = await enricher.executeBackfill(deps, plan, {
      onRunEnd: (r) => (runStats = r),
      onProgress: (p) => {
        const now = Date.now();
        if (p.done > 0 && first === null) first = { at: now, done: p.done };
        last = { at: now, done: p.done };
      },
    });
    const executeMs = Date.now() - executeStarted;
    const cpuExecute = process.cpuUsage(cpuExecuteBefore);
    const cpu = process.cpuUsage(cpuBefore);
    sampling = false;
    await sampler;
    const bronzeAfter = (await admin.fetchTopicOffsets(topics.bronze)).reduce(
      (s, p) => s + Number(p.high),
      0,
    );
    const sampled = lags.filter((x) => x !== null);
    const freshAfter = [];
    let recoveredMs = null;
    if (withAggregator) {
      const ended = Date.now();
      await core.waitFor(() => (freshness() ?? Infinity) < 2000, {
        timeoutMs: 10 * 60_000,
        intervalMs: 100,
        what: 'the live aggregator to be fresh again',
      });
      recoveredMs = Date.now() - ended;
      for (let i = 0; i < 20; i++) {
        freshAfter.push(freshness());
        await sleep(250);
      }
    }
    const freshStats = (xs) => {
      const v = xs.filter((x) => x !== null);
      return { median_ms: median(v), p90_ms: quantile(v, 0.9), max_ms: v.length ? Math.max(...v) : null };
    };
    const result = {
      bench: 'backfill',
      events_rederived: finished.run_records,
      events_per_second: Math.round((finished.run_records * 1000) / finished.run_ms),
      after_first_commit_events_per_second:
        first && last && last.at > first.at
          ? Math.round(((last.done - first.done) * 1000) / (last.at - first.at))
          : null,
      first_commit_ms: first ? first.at - executeStarted : null,
      transactions: runStats.transactions,
      aborted_transactions: runStats.aborted,
      run_ms: finished.run_ms,
      execute_ms: executeMs,
      plan_ms: planMs,
      backfill_cpu_us_per_event: Number(
        ((cpuExecute.user + cpuExecute.system) / finished.run_records).toFixed(1),
      ),
      backfill_cores_used: Number(((cpuExecute.user + cpuExecute.system) / 1000 / executeMs).toFixed(2)),
      plan_cpu_us_per_event: Number(
        ((cpu.user + cpu.system - cpuExecute.user - cpuExecute.system) / finished.run_records).toFixed(1),
      ),
      live_rate_events_per_second: Math.round(((bronzeAfter - bronzeBefore) * 1000) / (Date.now() - started)),
      live_enricher_lag_before: lagBefore,
      live_enricher_lag_max_during: sampled.length ? Math.max(...sampled) : null,
      live_enricher_lag_median_during: sampled.length
        ? sampled.sort((a, b) => a - b)[Math.floor(sampled.length / 2)]
        : null,
      ...(withAggregator
        ? {
            aggregator_freshness_before: freshStats(freshBefore),
            aggregator_freshness_during: freshStats(freshDuring),
            aggregator_freshness_after: freshStats(freshAfter),
            aggregator_fresh_again_ms_after_backfill: recoveredMs,
          }
        : {}),
      unit: 'bronze events re-derived into silver per second (read committed in, transactions out), live enricher and a 1,000 ev/s producer running',
      conditions: {
        live_pipeline: live,
        live_aggregator: withAggregator,
        bronze_events_prefilled: events,
        partitions: plan.stats.partitions.length,
        cpus: os.cpus().length,
        loadavg_1m: Number(os.loadavg()[0].toFixed(2)),
        node: process.version,
        note: 'events_per_second: the run (group join included) from the backfill state; after_first_commit: from its first commit to its last (the first transaction holds a large share: read it with first_commit_ms). plan_ms: the dry-run plan, which reads bronze once. cpu: this process, execute (switch + run) and plan separately; the live enricher, producer, broker and registry share the same 2 cores',
      },
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    for (const child of children) {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
    }
    await control.close();
    const { groups } = await admin.listGroups();
    await admin
      .deleteGroups(groups.map((g) => g.groupId).filter((g) => g.startsWith(prefix)))
      .catch(() => undefined);
    await admin.deleteTopics({ topics: Object.values(topics), timeout: 30_000 }).catch(() => undefined);
    await admin.disconnect();
    require('node:fs').rmSync(dbDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${core.errorMessage(err)}\n`);
  process.exitCode = 1;
});
