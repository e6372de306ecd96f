#!/usr/bin/env node
'use strict';
/**
 * Writes docs/metrics.md from the services' metric registries (apps/cdc/src/metrics-doc.ts; run
 * `npx tsc -b` first). `--check` writes nothing and exits 1 when the file is stale.
 */
const { readFileSync, writeFileSync } = require('node:fs');
const path = require('node:path');
const { metricsMarkdown, metricCatalog, namingProblems } = require('../apps/cdc/dist/metrics-doc');

const file = path.join(__dirname, '..', 'docs', 'metrics.md');
const catalog = metricCatalog();
const problems = namingProblems(catalog);
if (problems.length > 0) {
  process.stderr.write(`metric names that break the convention:\n  ${problems.join('\n  ')}\n`);
  process.exit(1);
}
const text = metricsMarkdown(catalog);
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(file, 'utf8');
  } catch {
    /* missing: stale */
  }
  if (current !== text) {
    process.stderr.write('docs/metrics.md is stale: run `npm run docs:metrics`\n');
    process.exit(1);
  }
} else {
  writeFileSync(file, text);
  process.stdout.write(`wrote ${path.relative(process.cwd(), file)} (${catalog.length} metrics)\n`);
}
