// Local stack start-up and idle memory. Runs its own stack on spare ports in a temporary folder.
//   cold: empty Maven repository (HOME points to a fresh folder) and empty stack folder: the first fetch
//   warm: the same stack stopped and started again (jars cached, data kept)
// Prints one JSON line. Cold is measured only with BENCH_STACK_COLD=1 (it downloads ~200 MB).
'use strict';
const { execFileSync } = require('node:child_process');
const { mkdtempSync, readFileSync, rmSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const cdc = path.join(__dirname, '..', 'bin', 'cdc.js');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'cdc-bench-stack-'));
const env = {
  ...process.env,
  KAFKA_BROKERS: '',
  SCHEMA_REGISTRY_URL: '',
  CDC_STACK_HOME: path.join(tmp, 'stack'),
  CDC_STACK_NAME: 'bench',
  CDC_KAFKA_PORT: process.env.BENCH_KAFKA_PORT || '59092',
  CDC_REGISTRY_PORT: process.env.BENCH_REGISTRY_PORT || '58081',
  LOG_LEVEL: 'warn',
};
delete env.KAFKA_BROKERS;
delete env.SCHEMA_REGISTRY_URL;
const cold = process.env.BENCH_STACK_COLD === '1';
if (cold) env.HOME = path.join(tmp, 'home');

function timed(args) {
  const t0 = process.hrtime.bigint();
  execFileSync(process.execPath, [cdc, ...args], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  return Number(process.hrtime.bigint() - t0) / 1e9;
}
function rssMb(pidFile) {
  const pid = readFileSync(pidFile, 'utf8').trim();
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024);
}

const result = { bench: 'stack', cores: os.cpus().length, memGb: Math.round(os.totalmem() / 2 ** 30) };
try {
  if (cold) {
    result.coldStartSeconds = +timed(['stack', 'up']).toFixed(1);
  } else {
    timed(['stack', 'fetch']);
    result.firstStartSeconds = +timed(['stack', 'up']).toFixed(1);
  }
  timed(['stack', 'down']);
  result.warmStartSeconds = +timed(['stack', 'up']).toFixed(1);
  const idleSeconds = Number(process.env.BENCH_IDLE_SECONDS || 30);
  execFileSync('sleep', [String(idleSeconds)]);
  const dir = path.join(env.CDC_STACK_HOME, 'bench');
  result.idleAfterSeconds = idleSeconds;
  result.kafkaIdleRssMb = rssMb(path.join(dir, 'kafka', 'kafka.pid'));
  result.registryIdleRssMb = rssMb(path.join(dir, 'registry', 'registry.pid'));
  const t0 = process.hrtime.bigint();
  timed(['stack', 'down']);
  result.stopSeconds = +(Number(process.hrtime.bigint() - t0) / 1e9).toFixed(1);
} finally {
  try {
    execFileSync(process.execPath, [cdc, 'stack', 'down'], { env, stdio: 'ignore' });
  } catch {
    /* already down */
  }
  rmSync(tmp, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(result) + '\n');
