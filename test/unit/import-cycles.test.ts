import { execFileSync } from 'node:child_process';
import path from 'node:path';

/** The shape of the imports: no cycles anywhere, shared packages that depend on no service. */
interface ImportGraph {
  modules: number;
  circular: string[][];
  graph: Record<string, string[]>;
}

let graph: ImportGraph | undefined;
const importGraph = (): ImportGraph => {
  const script = path.resolve(__dirname, '../import-graph.js');
  graph ??= JSON.parse(
    execFileSync(process.execPath, ['--no-deprecation', script], { encoding: 'utf8' }),
  ) as ImportGraph;
  return graph;
};

test('no module imports itself through others', () => {
  const g = importGraph();
  // The walk saw the whole code base and resolved the workspace packages to their sources.
  expect(g.modules).toBeGreaterThan(100);
  const targets = new Set(Object.values(g.graph).flat());
  expect(targets).toContain('packages/read-model/src/index.ts');
  expect(targets).toContain('packages/core/src/index.ts');
  expect(g.circular).toEqual([]);
});

test('the read model depends on core only, and the UI does not reach into the aggregator', () => {
  const g = importGraph();
  const edges = Object.entries(g.graph).flatMap(([from, tos]) => tos.map((to) => [from, to] as const));
  const out = (from: string, allowed: RegExp) =>
    edges.filter(([f, t]) => f.startsWith(from) && !allowed.test(t)).map(([f, t]) => `${f} -> ${t}`);
  expect(out('packages/read-model/src/', /^packages\/(read-model|core)\/src\//)).toEqual([]);
  expect(
    edges.filter(([f, t]) => f.startsWith('services/live-ui/') && t.startsWith('services/aggregator/')),
  ).toEqual([]);
});
