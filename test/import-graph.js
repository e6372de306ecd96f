// The import graph of every TypeScript module of the libraries, services and applications
// (sources and tests),
// with the workspace packages resolved to their sources through tsconfig.tests.json's paths, so
// a cycle between packages shows too. Type-only imports count: a cycle of types is still a knot
// a reader has to untie. madge (dependency-tree under the hood) does the walking.
//   node test/import-graph.js     prints {"modules": n, "circular": [[a, b, ...], ...], "graph": {...}}
// Run as its own process by test/unit/import-cycles.test.ts: inside jest's module sandbox, loading
// the TypeScript parser alone takes seconds.
'use strict';
const path = require('node:path');
const madge = require('madge');

const root = path.join(__dirname, '..');

async function main() {
  const result = await madge(
    [path.join(root, 'packages'), path.join(root, 'services'), path.join(root, 'apps')],
    {
      baseDir: root,
      fileExtensions: ['ts'],
      tsConfig: path.join(root, 'tsconfig.tests.json'),
      excludeRegExp: [/(^|\/)(dist|node_modules|public)\//, /\.d\.ts$/],
      detectiveOptions: { ts: { skipTypeImports: false } },
    },
  );
  const graph = result.obj();
  const out = { modules: Object.keys(graph).length, circular: result.circular(), graph };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
