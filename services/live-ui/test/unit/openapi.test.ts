import SwaggerParser from '@apidevtools/swagger-parser';
import type { FastifyInstance } from 'fastify';
import { DOCS_PATH } from '../../src/openapi';
import { standaloneApp } from '../fixtures/standalone-app';

/**
 * The OpenAPI description the server generates from its routes: a valid OpenAPI 3.1 document that
 * lists every /api route (and /healthz, /metrics), and a docs page served from this server. The
 * app is the server's own composition, without a database or Kafka, exercised in memory.
 */

/** GET routes of `printRoutes({ commonPrefix: false })`'s tree, as full paths. */
function getRoutes(tree: string): string[] {
  const parents: string[] = [];
  const out: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^([│ ]*)[└├]── (.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    const path = (parents[depth - 1] ?? '') + m[2]!;
    parents[depth] = path;
    if (m[3]?.split(', ').includes('GET')) out.push(path);
  }
  return out;
}

describe('the OpenAPI description', () => {
  let app: FastifyInstance;

  beforeAll(async () => {
    app = await standaloneApp();
    await app.ready();
  });
  afterAll(() => app.close());

  it('is a valid OpenAPI 3.1 document', async () => {
    const doc = app.swagger();
    expect('openapi' in doc && doc.openapi).toBe('3.1.0');
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeDefined();
  });

  it('lists every /api route the server has, and /healthz and /metrics', () => {
    const routes = getRoutes(app.printRoutes({ commonPrefix: false }));
    const api = routes.filter((r) => r.startsWith('/api/') && !r.startsWith(DOCS_PATH));
    expect(api).toEqual(expect.arrayContaining(['/api/kpis', '/api/bookings.csv', '/api/openapi.json']));
    expect(routes).toEqual(expect.arrayContaining(['/', '/ws', '/vendor/chart.umd.min.js', `${DOCS_PATH}/`]));
    const documented = Object.keys(app.swagger().paths ?? {}).sort();
    expect(documented).toEqual([...api, '/healthz', '/metrics'].sort());
  });

  it('documents every parameter and each response of every operation', () => {
    const doc = app.swagger() as unknown as {
      paths: Record<string, { get: { responses: Record<string, { content?: object }> } }>;
    };
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [status, response] of Object.entries(item.get.responses)) {
        expect([path, status, response.content !== undefined]).toEqual([path, status, true]);
      }
    }
    const kpis = app.swagger().paths?.['/api/kpis']?.get;
    expect(kpis?.parameters?.map((p) => ('name' in p ? p.name : ''))).toEqual([
      'from',
      'to',
      'status',
      'movie',
    ]);
  });

  it('serves the description and a docs page with its assets from this server', async () => {
    const json = await app.inject({ method: 'GET', url: '/api/openapi.json' });
    expect(json.statusCode).toBe(200);
    expect(json.json()).toEqual(app.swagger());
    const page = await app.inject({ method: 'GET', url: `${DOCS_PATH}/` });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    const scripts = [...page.body.matchAll(/src="([^"]+)"/g)].map((m) => m[1]!);
    expect(scripts.length).toBeGreaterThan(0);
    for (const src of scripts) {
      expect(src.startsWith('./') || src.startsWith('/')).toBe(true);
      const asset = await app.inject({ method: 'GET', url: new URL(src, `http://x${DOCS_PATH}/`).pathname });
      expect([src, asset.statusCode]).toEqual([src, 200]);
    }
  });
});
