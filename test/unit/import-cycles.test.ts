import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, type Dirent } from 'node:fs';
import path from 'node:path';

/**
 * The layers, from the imports: applications above services above libraries above core, arrows
 * pointing down only, no cycles (docs/architecture.md, "Layers"). A module belongs to the
 * workspace whose folder holds it; a test (anything under a workspace's `test/`) may import what
 * its workspace's sources may, its own workspace, and the test kit (`packages/testing`).
 */
interface ImportGraph {
  modules: number;
  circular: string[][];
  graph: Record<string, string[]>;
}

const ROOT = path.resolve(__dirname, '../..');

/** Each workspace folder's floor: a module may import from its own workspace and from lower floors. */
const FLOORS: readonly { floor: number; name: string; folders: RegExp }[] = [
  { floor: 0, name: 'core', folders: /^packages\/core$/ },
  { floor: 1, name: 'libraries', folders: /^packages\/(bookings|observe|read-model|stack)$/ },
  { floor: 2, name: 'test kit', folders: /^packages\/testing$/ },
  { floor: 3, name: 'services', folders: /^services\/[^/]+$/ },
  { floor: 4, name: 'applications', folders: /^apps\/[^/]+$/ },
];
const TEST_KIT = 'packages/testing';

const workspaceOf = (file: string): string => file.split('/').slice(0, 2).join('/');
const floorOf = (workspace: string): { floor: number; name: string } => {
  const floor = FLOORS.find((f) => f.folders.test(workspace));
  if (!floor) throw new Error(`${workspace} is on no floor: add it to FLOORS (and to docs/architecture.md)`);
  return floor;
};
const isTest = (file: string): boolean => file.split('/')[2] === 'test';

/** Why `from` may not import `to`, or null when it may. */
export function layerViolation(from: string, to: string): string | null {
  const [fromWs, toWs] = [workspaceOf(from), workspaceOf(to)];
  if (fromWs === toWs) return isTest(to) && !isTest(from) ? 'sources never import tests' : null;
  if (isTest(to)) return "a workspace never imports another's tests";
  if (toWs === TEST_KIT && isTest(from)) return null;
  const [f, t] = [floorOf(fromWs), floorOf(toWs)];
  if (toWs === TEST_KIT) return `${f.name} sources never import the test kit`;
  if (t.floor < f.floor && !(f.floor >= 3 && t.floor === 2)) return null;
  if (t.floor === f.floor) return `${f.name} do not import one another`;
  return `${f.name} (floor ${f.floor}) import down only, not ${t.name} (floor ${t.floor})`;
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

test('every import points down the floors: apps > services > test kit > libraries > core', () => {
  const g = importGraph();
  const upward = Object.entries(g.graph).flatMap(([from, tos]) =>
    tos.flatMap((to) => {
      const why = layerViolation(from, to);
      return why === null ? [] : [`${from} -> ${to}: ${why}`];
    }),
  );
  expect(upward).toEqual([]);
});

test('the rule itself: what it allows and what it refuses', () => {
  expect(layerViolation('services/aggregator/src/a.ts', 'packages/read-model/src/index.ts')).toBeNull();
  expect(layerViolation('apps/cdc/src/a.ts', 'services/enricher/src/index.ts')).toBeNull();
  expect(layerViolation('services/enricher/test/unit/a.test.ts', 'packages/testing/src/index.ts')).toBeNull();
  expect(layerViolation('packages/core/test/unit/a.test.ts', 'packages/testing/src/index.ts')).toBeNull();
  expect(layerViolation('packages/core/src/a.ts', 'packages/read-model/src/index.ts')).toMatch(/down only/);
  expect(layerViolation('packages/testing/src/a.ts', 'services/enricher/src/index.ts')).toMatch(/down only/);
  expect(layerViolation('services/live-ui/src/a.ts', 'services/aggregator/src/index.ts')).toMatch(
    /one another/,
  );
  expect(layerViolation('services/live-ui/test/a.test.ts', 'services/aggregator/src/index.ts')).toMatch(
    /one another/,
  );
  expect(layerViolation('services/live-ui/src/a.ts', 'packages/testing/src/index.ts')).toMatch(/test kit/);
  expect(layerViolation('packages/read-model/src/a.ts', 'packages/stack/src/index.ts')).toMatch(
    /one another/,
  );
  expect(layerViolation('packages/core/src/a.ts', 'packages/core/test/unit/x.ts')).toMatch(
    /never import tests/,
  );
});

test("the workspaces' own dependencies point down too, and none depends on the test kit", () => {
  const folders = ['packages', 'services', 'apps'].flatMap((top) =>
    readdirSync(path.join(ROOT, top)).map((name) => `${top}/${name}`),
  );
  const byName = new Map<string, string>();
  const manifests = folders.map((folder) => {
    const manifest = JSON.parse(readFileSync(path.join(ROOT, folder, 'package.json'), 'utf8')) as {
      name: string;
      dependencies?: Record<string, string>;
      devDependencies?: Record<string, string>;
    };
    byName.set(manifest.name, folder);
    return { folder, manifest };
  });
  const wrong = manifests.flatMap(({ folder, manifest }) => [
    ...Object.keys(manifest.devDependencies ?? {})
      .filter((dep) => byName.has(dep))
      .map((dep) => `${folder} devDepends on ${dep}: test-only workspaces belong to the root package`),
    ...Object.keys(manifest.dependencies ?? {})
      .filter((dep) => byName.has(dep))
      .flatMap((dep) => {
        const why = layerViolation(`${folder}/src/index.ts`, `${byName.get(dep)}/src/index.ts`);
        return why === null ? [] : [`${folder} depends on ${dep}: ${why}`];
      }),
  ]);
  expect(wrong).toEqual([]);
});

/** The one folder whose modules import the Kafka client (the Kafka edge, docs/architecture.md). */
const KAFKA_EDGE = 'packages/core/src/kafka/';
/** `from 'kafkajs'`, `from 'kafkajs/…'`, `require('kafkajs')`, `import('kafkajs')` (not `@kafkajs/…`). */
const KAFKAJS_IMPORT =
  /(?:\bfrom\s*|\brequire\s*\(\s*|\bimport\s*\(\s*|^\s*import\s*)['"]kafkajs(?:\/[^'"]*)?['"]/m;

/** The modules of the workspaces (not their tests, builds or dependencies), relative to the root. */
function sourceModules(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e: Dirent) => {
      const rel = `${dir}/${e.name}`;
      if (e.isDirectory()) return ['node_modules', 'dist', 'test'].includes(e.name) ? [] : walk(rel);
      return /\.(ts|tsx|js|mjs|cjs)$/.test(e.name) && !/\.test\.ts$/.test(e.name) ? [rel] : [];
    });
  return ['packages', 'services', 'apps'].flatMap(walk);
}

export const importsKafkajs = (text: string): boolean => KAFKAJS_IMPORT.test(text);

test('only the Kafka edge (packages/core/src/kafka/) imports kafkajs', () => {
  const modules = sourceModules();
  expect(modules).toContain(`${KAFKA_EDGE}client.ts`);
  const outside = modules.filter(
    (file) => !file.startsWith(KAFKA_EDGE) && importsKafkajs(readFileSync(path.join(ROOT, file), 'utf8')),
  );
  expect(outside).toEqual([]);
  // …and only core declares it: a workspace's package.json lists what its sources use.
  const declaring = ['packages', 'services', 'apps']
    .flatMap((top) => readdirSync(path.join(ROOT, top)).map((name) => `${top}/${name}`))
    .filter((folder) => {
      const manifest = JSON.parse(readFileSync(path.join(ROOT, folder, 'package.json'), 'utf8')) as {
        dependencies?: Record<string, string>;
      };
      return manifest.dependencies?.kafkajs !== undefined;
    });
  expect(declaring).toEqual(['packages/core']);
});

test('the Kafka edge rule itself: what counts as importing kafkajs', () => {
  expect(importsKafkajs("import type { Admin } from 'kafkajs';")).toBe(true);
  expect(importsKafkajs('import { Kafka } from "kafkajs";')).toBe(true);
  expect(importsKafkajs("const m = require('kafkajs/src/producer/partitioners/default/murmur2');")).toBe(
    true,
  );
  expect(importsKafkajs("const k = await import('kafkajs');")).toBe(true);
  expect(importsKafkajs("import 'kafkajs';")).toBe(true);
  expect(importsKafkajs("import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';")).toBe(false);
  expect(importsKafkajs("import type { Admin } from '@cdc/core';")).toBe(false);
});
