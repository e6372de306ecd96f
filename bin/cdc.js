#!/usr/bin/env node
'use strict';
// Entry point of `npx cdc`. The TypeScript is compiled by `npm install` (prepare) or `npm run build`.
let cli;
try {
  cli = require('../apps/cdc/dist/main.js');
} catch (err) {
  if (err && err.code === 'MODULE_NOT_FOUND') {
    process.stderr.write(
      'cdc is not built yet: run `npm run build` (or `npm ci`) in the repository first.\n',
    );
    process.exit(1);
  }
  throw err;
}
cli.main(process.argv).catch((err) => {
  process.stderr.write(`error: ${err && err.stack ? err.stack : err}\n`);
  process.exitCode = 1;
});
