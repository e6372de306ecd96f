// Availability benchmark (issues 13 and 17): how fast each stage moves again after a fault, and how
// long each service takes to stop, on a private broker and registry that this script stops, pauses
// and restarts (never the shared stack). Prints one JSON line per build.
//
//   node bench/faults.js                       this build
//   BENCH_FAULT_ROOTS=before=/tmp/old,after=. node bench/faults.js
//                                              several builds side by side, alternating, same stack
//
// A "build" is a repository checkout with `bin/cdc.js` built (`npm run build`). Every scenario
// waits at most BENCH_FAULT_TIMEOUT_MS (default 60 s); a stage that did not move by then is
// reported as null ("did not resume"), a service that did not exit is killed and reported as such.
'use strict';
const { spawn } = require('node:child_process');
const { existsSync, mkdtempSync, rmSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const Database = require('better-sqlite3');
const { startFaultStack } = require('../packages/testing/dist');
const { createKafka, createLogger, topicNames, sleep } = require('../packages/core/dist');

const TIMEOUT_MS = Number(process.env.BENCH_FAULT_TIMEOUT_MS ?? 60_000);
const roots = (process.env.BENCH_FAULT_ROOTS ?? `this=${path.join(__dirname, '..')}`)
  .split(',')
  .map((s) => s.split('='))
  .map(([name, dir]) => ({ name, dir: path.resolve(dir) }));

const quiet = createLogger('bench', 'silent');

function cdc(root, args, env) {
  const child = spawn(process.execPath, [path.join(root.dir, 'bin', 'cdc.js'), ...args], {
    cwd: root.dir,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d) => (err = (err + d).slice(-20000)));
  child.stdout.on('data', () => undefined);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  return {
    child,
    exited,
    stderr: () => err,
    running: () => child.exitCode === null && child.signalCode === null,
  };
}

async function until(check, timeoutMs = TIMEOUT_MS) {
  const started = Date.now();
  for (;;) {
    try {
      if (await check()) return Date.now() - started;
    } catch {
      /* not yet */
    }
    if (Date.now() - started > timeoutMs) return null;
    await sleep(100);
  }
}

async function stopTimed(p, signal = 'SIGTERM') {
  if (!p.running()) {
    // Stopped by itself before the signal: say how and why (its last lines of output).
    const tail = p.stderr().trim().split('\n').slice(-3).join(' | ').slice(-600);
    return { ms: 0, code: `already exited (${p.child.exitCode ?? p.child.signalCode})`, output: tail };
  }
  const started = Date.now();
  p.child.kill(signal);
  const r = await Promise.race([p.exited, sleep(TIMEOUT_MS).then(() => 'timeout')]);
  if (r === 'timeout') {
    p.child.kill('SIGKILL');
    await p.exited;
    return { ms: null, code: `did not exit within ${TIMEOUT_MS / 1000} s (killed)` };
  }
  return { ms: Date.now() - started, code: r };
}

async function scenarioSet(stack, root) {
  const prefix = `bench-faults-${root.name}-${Date.now()}.`;
  const env = { ...stack.env, TOPIC_PREFIX: prefix, SHUTDOWN_TIMEOUT_MS: '10000' };
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'bench-faults-'));
  const db = path.join(tmp, 'aggregator.db');
  const names = topicNames(prefix);
  const kafka = createKafka({ brokers: [stack.env.KAFKA_BROKERS], clientId: 'bench' }, quiet, { retries: 1 });
  const admin = kafka.admin();
  const withAdmin = async (fn) => {
    await admin.connect();
    return fn(admin);
  };
  const sumOffsets = (parts) => parts.reduce((s, p) => s + Math.max(0, Number(p.offset ?? p.high)), 0);
  const bronze = () => withAdmin(async (a) => sumOffsets(await a.fetchTopicOffsets(names.bronze)));
  const enriched = () =>
    withAdmin(async (a) => {
      const [t] = await a.fetchOffsets({ groupId: `${prefix}cdc-enricher`, topics: [names.bronze] });
      return sumOffsets(t.partitions);
    });
  const applied = () => {
    if (!existsSync(db)) return 0;
    const d = new Database(db, { readonly: true });
    try {
      return d.prepare('SELECT COALESCE(SUM(next_offset),0) AS n FROM applied_offsets').get().n;
    } catch {
      return 0;
    } finally {
      d.close();
    }
  };
  const grows = async (probe, timeoutMs) => {
    const base = await probe().catch(() => -1);
    return until(async () => (await probe()) > base, timeoutMs);
  };
  const out = { build: root.name };
  const procs = [];
  const start = (args) => {
    const p = cdc(root, args, env);
    procs.push(p);
    return p;
  };
  try {
    const created = cdc(root, ['topics', 'create'], env);
    await created.exited;
    let enricher = start(['enrich', '--ops-port', '0']);
    let aggregator = start(['aggregate', '--db', db, '--ops-port', '0']);
    let producer = start(['produce', '--rate', '200', '--ops-port', '0', '--no-progress']);
    await until(async () => applied() > 0 && (await enriched()) > 0, 120_000);

    // SIGKILL + immediate restart: from the kill until the stage commits again.
    let t0 = Date.now();
    let base = await enriched();
    enricher.child.kill('SIGKILL');
    await enricher.exited;
    enricher = start(['enrich', '--ops-port', '0']);
    out.enricherSigkillResumeMs =
      (await until(async () => (await enriched()) > base)) === null ? null : Date.now() - t0;
    t0 = Date.now();
    base = applied();
    aggregator.child.kill('SIGKILL');
    await aggregator.exited;
    aggregator = start(['aggregate', '--db', db, '--ops-port', '0']);
    out.aggregatorSigkillResumeMs = (await until(() => applied() > base)) === null ? null : Date.now() - t0;

    // Broker restart (down 5 s): from the broker answering again until each stage moves.
    await stack.kafka.stop();
    await sleep(5000);
    await stack.kafka.start();
    const [p, e, a] = await Promise.all([grows(bronze), grows(enriched), grows(async () => applied())]);
    out.brokerRestart = { producerMs: p, enricherMs: e, aggregatorMs: a, producerAlive: producer.running() };
    if (!producer.running())
      producer = start(['produce', '--rate', '200', '--ops-port', '0', '--no-progress']);
    await until(async () => (await enriched()) > 0);

    // Registry restart (down 5 s) under a running pipeline, and an aggregator started during it.
    await stack.registry.stop();
    await stopTimed(aggregator);
    aggregator = start(['aggregate', '--db', db, '--ops-port', '0']);
    await sleep(5000);
    const exitedDuringOutage = !aggregator.running();
    await stack.registry.start();
    if (exitedDuringOutage) aggregator = start(['aggregate', '--db', db, '--ops-port', '0']);
    const [re, ra] = await Promise.all([grows(enriched), grows(async () => applied())]);
    out.registryRestart = {
      enricherMs: re,
      aggregatorMs: ra,
      aggregatorExitedDuringOutage: exitedDuringOutage,
    };

    // Shutdown: SIGTERM with the broker up, stopped, paused.
    const stopAll = async () => {
      const r = {};
      for (const [name, proc] of Object.entries({ enricher, aggregator, producer }))
        r[name] = await stopTimed(proc);
      return r;
    };
    out.shutdownBrokerUp = await stopAll();
    enricher = start(['enrich', '--ops-port', '0']);
    aggregator = start(['aggregate', '--db', db, '--ops-port', '0']);
    producer = start(['produce', '--rate', '200', '--ops-port', '0', '--no-progress']);
    await grows(async () => applied(), 120_000);
    await stack.kafka.stop();
    await sleep(3000);
    out.shutdownBrokerStopped = await stopAll();
    await stack.kafka.start();
    enricher = start(['enrich', '--ops-port', '0']);
    aggregator = start(['aggregate', '--db', db, '--ops-port', '0']);
    producer = start(['produce', '--rate', '200', '--ops-port', '0', '--no-progress']);
    await grows(async () => applied(), 120_000);
    stack.kafka.pause();
    await sleep(2000);
    out.shutdownBrokerPaused = await stopAll();
    stack.kafka.resume();
  } finally {
    for (const p of procs) if (p.running()) p.child.kill('SIGKILL');
    await admin.disconnect().catch(() => undefined);
    rmSync(tmp, { recursive: true, force: true });
  }
  return out;
}

(async () => {
  const stack = await startFaultStack('bench-faults');
  try {
    for (const root of roots) {
      const r = await scenarioSet(stack, root);
      process.stdout.write(
        `${JSON.stringify({ bench: 'faults', ...r, conditions: { cpus: os.cpus().length, loadavg: os.loadavg().map((x) => +x.toFixed(2)), node: process.version } })}\n`,
      );
    }
  } finally {
    stack.kafka.resume();
    await stack.cleanup();
  }
})().catch((err) => {
  process.stderr.write(`${err.stack ?? err}\n`);
  process.exitCode = 1;
});
