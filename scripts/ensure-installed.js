#!/usr/bin/env node
'use strict';
/**
 * Makes `npm start` and `npm test` work as the first command on a fresh clone: installs the npm
 * dependencies (which also compiles the TypeScript and applies patches/) when node_modules is
 * missing or older than package-lock.json. With `--browser` it also makes sure the dashboard
 * tests have a Chromium (Debian's package, through .ci/browser), with `--monitoring` that the
 * monitoring tests have Prometheus, promtool and Alertmanager (Debian's packages, through
 * .ci/monitoring), and says what to do when it cannot install them. Plain Node.js, no dependencies: it runs before anything is installed.
 */
const { spawnSync } = require('node:child_process');
const { existsSync, statSync } = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const lockFile = path.join(root, 'package-lock.json');
const installed = path.join(root, 'node_modules', '.package-lock.json');

function run(command, args) {
  const r = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

function needsInstall() {
  if (!existsSync(installed)) return 'node_modules is missing';
  if (statSync(lockFile).mtimeMs > statSync(installed).mtimeMs) return 'package-lock.json changed';
  return null;
}

/**
 * npm ci's own output (its scripts' banners, patch-package, the build) is kept unless it fails:
 * the first `npm start` on a fresh clone prints a line for the install, not thirty.
 */
function installQuietly() {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const started = Date.now();
  const r = spawnSync(npm, ['ci', '--no-audit', '--no-fund'], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  if (r.status !== 0) {
    process.stderr.write(`${r.stdout}${r.stderr}npm ci failed (exit ${r.status}): see above\n`);
    process.exit(r.status ?? 1);
  }
  process.stderr.write(`installed the dependencies in ${Math.round((Date.now() - started) / 1000)} s\n`);
}

const reason = needsInstall();
if (reason !== null) {
  process.stderr.write(`${reason}: installing dependencies (npm ci, about a minute)\n`);
  installQuietly();
}

if (process.argv.includes('--monitoring')) {
  const tools = [
    process.env.PROMETHEUS_PATH || '/usr/bin/prometheus',
    process.env.PROMTOOL_PATH || '/usr/bin/promtool',
    process.env.ALERTMANAGER_PATH || '/usr/bin/prometheus-alertmanager',
  ];
  if (!tools.every((t) => existsSync(t))) {
    process.stderr.write(
      "no Prometheus/Alertmanager: installing Debian's prometheus and prometheus-alertmanager (.ci/monitoring)\n",
    );
    const status = run('bash', [path.join(root, '.ci', 'monitoring')]);
    if (status !== 0 || !tools.every((t) => existsSync(t))) {
      process.stderr.write(
        'The monitoring tests need Prometheus and Alertmanager: install them (Debian/Ubuntu: ' +
          '`sudo apt-get install prometheus prometheus-alertmanager`) or set PROMETHEUS_PATH, PROMTOOL_PATH and ALERTMANAGER_PATH.\n',
      );
      process.exit(1);
    }
  }
}

if (process.argv.includes('--browser')) {
  const chromium = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
  if (!existsSync(chromium)) {
    process.stderr.write(`no Chromium at ${chromium}: installing Debian's chromium (.ci/browser)\n`);
    const status = run('bash', [path.join(root, '.ci', 'browser')]);
    if (status !== 0 || !existsSync(chromium)) {
      process.stderr.write(
        'The dashboard tests need Chromium: install it (Debian/Ubuntu: `sudo apt-get install chromium`) ' +
          'or set CHROMIUM_PATH to its executable.\n',
      );
      process.exit(1);
    }
  }
}
