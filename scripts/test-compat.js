#!/usr/bin/env node
// The compatibility subset (test/compatibility-subset.js) against Kafka 3.9: CDC_KAFKA_VERSION
// (default KAFKA_COMPAT_VERSION) selects the broker the test setup starts. Extra arguments go to jest.
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const subset = require('../test/compatibility-subset');
const { KAFKA_COMPAT_VERSION } = require('../packages/stack/dist/versions');

const version = process.env.CDC_KAFKA_VERSION || KAFKA_COMPAT_VERSION;
process.stdout.write(`compatibility subset: ${subset.length} files against Kafka ${version}\n`);
const jest = path.join(__dirname, '..', 'node_modules', '.bin', 'jest');
const r = spawnSync(
  jest,
  ['--selectProjects', 'integration', '--runTestsByPath', ...subset, ...process.argv.slice(2)],
  {
    stdio: 'inherit',
    env: { ...process.env, CDC_KAFKA_VERSION: version },
  },
);
process.exit(r.status ?? 1);
