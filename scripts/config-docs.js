#!/usr/bin/env node
'use strict';
// Writes docs/configuration.md from the settings schemas (run `npm run build` first; `npm run docs:config` does).
const fs = require('node:fs');
const path = require('node:path');
const { buildProgram } = require('../apps/cdc/dist/main.js');
const { renderConfigurationDocs } = require('../apps/cdc/dist/configuration-docs.js');

const commands = buildProgram().commands.map((c) => c.name());
const file = path.join(__dirname, '../docs/configuration.md');
fs.writeFileSync(file, renderConfigurationDocs(commands));
process.stdout.write(`wrote ${path.relative(process.cwd(), file)}\n`);
