// `npm run bench`: runs every benchmark one after another against a private stack (started here
// on ports 59092/58081 unless KAFKA_BROKERS and SCHEMA_REGISTRY_URL are set), prints each JSON
// result and writes them all to bench/results/<time>.json. Record numbers, with their
// conditions, in BENCHMARKS.md. A benchmark may print several JSON lines (e2e: one per rate): each
// is kept.
//   npm run bench                     all benchmarks
//   npm run bench -- producer stack   only those whose name contains one of the words
//   BENCH_COLD_BROKER=1 npm run bench skip warming up the freshly started broker (bench/warm-broker.js)
'use strict';
const { execFileSync, spawnSync } = require('node:child_process');
const { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.join(__dirname, '..');
const cdc = path.join(root, 'bin', 'cdc.js');
const filters = process.argv.slice(2);

const benches = [
  { name: 'stack', file: path.join(__dirname, 'stack.js'), ownStack: true },
  { name: 'kafkajs-idle-cpu', file: path.join(__dirname, 'idle-cpu.js') },
  { name: 'backfill', file: path.join(__dirname, 'backfill.js') },
  // Stops, pauses and restarts a broker and registry of its own.
  { name: 'faults', file: path.join(__dirname, 'faults.js'), ownStack: true },
];
// The TypeScript benchmarks, bench/<stage>/<name>.ts, compiled by `tsc -b` to bench/dist/<stage>/<name>.js.
const compiled = path.join(__dirname, 'dist');
for (const stage of existsSync(compiled) ? readdirSync(compiled).sort() : []) {
  const dir = path.join(compiled, stage);
  // support: helpers the benchmarks share, not benchmarks
  if (!statSync(dir).isDirectory() || stage === 'support') continue;
  for (const f of readdirSync(dir)
    // common.js: the shared set-up of a stage's benchmarks, not one itself
    .filter((f) => f.endsWith('.js') && f !== 'common.js')
    .sort()) {
    // scale: offline (no broker), so it starts no stack
    benches.push({
      name: `${stage}/${f.replace(/\.js$/, '')}`,
      file: path.join(dir, f),
      offline: stage === 'scale',
    });
  }
}
const selected = benches.filter((b) => filters.length === 0 || filters.some((f) => b.name.includes(f)));

const external = Boolean(process.env.KAFKA_BROKERS && process.env.SCHEMA_REGISTRY_URL);
const stackEnv = {
  ...process.env,
  CDC_STACK_NAME: 'bench',
  CDC_KAFKA_PORT: '59092',
  CDC_REGISTRY_PORT: '58081',
};
const env = external
  ? { ...process.env }
  : {
      ...process.env,
      KAFKA_BROKERS: '127.0.0.1:59092',
      SCHEMA_REGISTRY_URL: 'http://127.0.0.1:58081/apis/ccompat/v7',
    };
env.LOG_LEVEL ??= 'warn';
// Benchmarks that count the broker's CPU find its pid here (the stack started below).
if (!external) {
  const { stackConfig } = require('@cdc/stack');
  const stack = stackConfig(stackEnv);
  env.BENCH_BROKER_PID_FILE ??= path.join(stack.home, stack.name, 'kafka', 'kafka.pid');
}

const needsStack = selected.some((b) => !b.ownStack && !b.offline);
if (needsStack && !external) {
  delete stackEnv.KAFKA_BROKERS;
  delete stackEnv.SCHEMA_REGISTRY_URL;
  execFileSync(process.execPath, [cdc, 'stack', 'up'], {
    env: stackEnv,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  // A broker just started is measurably slower until its JIT has compiled the hot paths.
  if (process.env.BENCH_COLD_BROKER !== '1') {
    execFileSync(process.execPath, [path.join(__dirname, 'warm-broker.js')], {
      env,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }
}
const results = [];
try {
  for (const b of selected) {
    process.stderr.write(`\n=== ${b.name}\n`);
    const r = spawnSync(process.execPath, [b.file], {
      env: b.ownStack ? process.env : env,
      stdio: ['ignore', 'pipe', 'inherit'],
      encoding: 'utf8',
    });
    const lines = [];
    for (const line of r.stdout.split('\n')) {
      try {
        const parsed = JSON.parse(line);
        if (parsed && typeof parsed === 'object') lines.push(parsed);
      } catch {
        // not a result line
      }
    }
    if (r.status !== 0 || lines.length === 0)
      lines.push({ bench: b.name, error: `exit ${r.status}${lines.length ? '' : ', no JSON result'}` });
    for (const parsed of lines) {
      results.push(parsed);
      process.stdout.write(JSON.stringify(parsed) + '\n');
    }
  }
} finally {
  if (needsStack && !external)
    execFileSync(process.execPath, [cdc, 'stack', 'down'], { env: stackEnv, stdio: 'ignore' });
}
const out = path.join(__dirname, 'results');
mkdirSync(out, { recursive: true });
const file = path.join(out, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
const conditions = {
  host: os.hostname(),
  cpus: os.cpus().length,
  cpuModel: os.cpus()[0]?.model,
  memGb: Math.round(os.totalmem() / 2 ** 30),
  node: process.version,
};
writeFileSync(file, JSON.stringify({ conditions, results }, null, 2));
process.stderr.write(`\nresults: ${path.relative(root, file)}\n`);
if (results.some((r) => r.error)) process.exitCode = 1;
