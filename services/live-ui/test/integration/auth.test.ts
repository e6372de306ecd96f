import path from 'node:path';
import WebSocket from 'ws';
import { createLogger } from '@cdc/core';
import { createTestContext, startCdc, type TestContext } from '@cdc/testing';
import { createToken, loadLiveUiConfig, revokeToken, startLiveUi, type LiveUiServer } from '../../src';
import { GoldProducer, PipelineData, seedWorkedExample } from '../fixtures/pipeline-data';
import { tempDir } from './helpers';

/**
 * The dashboard behind API tokens, over real HTTP: without a token every route but /healthz
 * answers 401 (the websocket upgrade included); a viewer reads but cannot change; a revoked token
 * and its sessions stop working at once; failed attempts are rate-limited; `cdc ui` off loopback
 * without tokens refuses to start.
 */
const UI_PORT = 44510;

/** Opens a websocket; resolves with 'open' or the HTTP status that refused it. */
function upgrade(url: string, headers: Record<string, string>): Promise<'open' | number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/ws`, { origin: url, headers });
    ws.on('error', () => undefined);
    ws.once('open', () => {
      ws.terminate();
      resolve('open');
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
  });
}

describe('the live UI with API tokens', () => {
  let ctx: TestContext;
  let tmp: ReturnType<typeof tempDir>;
  let data: PipelineData;
  let server: LiveUiServer;
  let tokensPath: string;
  let viewer: string;
  let operator: string;
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  beforeAll(async () => {
    ctx = await createTestContext({ name: 'ui-auth' });
    tmp = tempDir('auth');
    const dbPath = path.join(tmp.dir, 'aggregator.db');
    tokensPath = path.join(tmp.dir, 'ui-tokens.json');
    data = PipelineData.open(dbPath);
    const gold = await GoldProducer.create(
      ctx.track(ctx.kafka.producer()),
      ctx.connection.registryUrl,
      ctx.topics.gold,
    );
    await gold.send(seedWorkedExample(data));
    viewer = createToken(tokensPath, 'viewer', 'test viewer').token;
    operator = createToken(tokensPath, 'operator', 'test operator').token;
    const config = loadLiveUiConfig(
      { UI_AUTH: 'required', UI_AUTH_MAX_FAILURES_PER_MINUTE: '5' },
      { port: 0, dbPath, tokensPath },
    );
    server = await startLiveUi({
      config,
      connection: ctx.connection,
      logger: createLogger('live-ui', 'silent'),
    });
    await server.ready;
  });

  afterAll(async () => {
    await server?.stop();
    data?.close();
    await ctx?.cleanup();
    tmp?.remove();
  });

  it('answers 401 on every route but /healthz without a token; the websocket upgrade too', async () => {
    const openapi = (await (
      await fetch(`${server.url}/api/openapi.json`, { headers: bearer(viewer) })
    ).json()) as {
      paths: Record<string, Record<string, unknown>>;
      components: { securitySchemes: Record<string, unknown> };
      security: unknown[];
    };
    expect(Object.keys(openapi.components.securitySchemes).sort()).toEqual(['bearerToken', 'sessionCookie']);
    expect(openapi.security).toEqual([{ bearerToken: [] }, { sessionCookie: [] }]);
    const paths = [
      ...Object.keys(openapi.paths).map((p) => p.replace('{id}', '0123456789ab')),
      '/',
      '/index.html',
      '/js/app.js',
      '/api/docs',
      '/no-such-page',
    ];
    expect(paths).toEqual(expect.arrayContaining(['/api/kpis', '/api/bookings', '/metrics', '/healthz']));
    for (const p of paths) {
      const res = await fetch(`${server.url}${p}`);
      expect([p, res.status]).toEqual([p, p === '/healthz' ? 200 : 401]);
    }
    const wrong = await fetch(`${server.url}/api/kpis`, { headers: bearer(`${viewer.slice(0, -4)}AAAA`) });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toMatch(/^Bearer/);
    // A browser opening the page is sent to the sign-in page (which anyone may load).
    const page = await fetch(`${server.url}/`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(401);
    expect(await page.text()).toContain('url=/login.html');
    expect((await fetch(`${server.url}/login.html`)).status).toBe(200);

    expect(await upgrade(server.url, {})).toBe(401);
    expect(await upgrade(server.url, bearer('cdcui_nope'))).toBe(401);
    expect(await upgrade(server.url, bearer(viewer))).toBe('open');
  });

  it('a viewer reads but cannot change; an operator can', async () => {
    const kpis = await fetch(`${server.url}/api/kpis`, { headers: bearer(viewer) });
    expect(kpis.status).toBe(200);
    expect(((await kpis.json()) as { movies: unknown[] }).movies.length).toBeGreaterThan(0);
    expect((await fetch(`${server.url}/api/bookings?pageSize=5`, { headers: bearer(viewer) })).status).toBe(
      200,
    );
    expect((await fetch(`${server.url}/api/alerts`, { headers: bearer(viewer) })).status).toBe(200);
    expect((await fetch(`${server.url}/api/health`, { headers: bearer(viewer) })).status).toBe(200);

    const extra = createToken(tokensPath, 'viewer', 'to revoke');
    const byViewer = await fetch(`${server.url}/api/tokens/${extra.record.id}`, {
      method: 'DELETE',
      headers: bearer(viewer),
    });
    expect(byViewer.status).toBe(403);
    expect(((await byViewer.json()) as { error: string }).error).toMatch(/needs an operator token/);
    expect((await fetch(`${server.url}/api/tokens`, { headers: bearer(viewer) })).status).toBe(403);
    expect((await fetch(`${server.url}/api/kpis`, { headers: bearer(extra.token) })).status).toBe(200);

    const list = await fetch(`${server.url}/api/tokens`, { headers: bearer(operator) });
    expect(list.status).toBe(200);
    const text = await list.text();
    expect(text).toContain(extra.record.id);
    expect(text).not.toContain(extra.record.sha256);
    const byOperator = await fetch(`${server.url}/api/tokens/${extra.record.id}`, {
      method: 'DELETE',
      headers: bearer(operator),
    });
    expect(byOperator.status).toBe(204);
    expect((await fetch(`${server.url}/api/kpis`, { headers: bearer(extra.token) })).status).toBe(401);
  });

  it('a browser session: HttpOnly SameSite=Strict cookie; ends when its token is revoked', async () => {
    const temp = createToken(tokensPath, 'viewer', 'session');
    const login = await fetch(`${server.url}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: temp.token }),
    });
    expect(login.status).toBe(200);
    const setCookie = login.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^cdc_session=[A-Za-z0-9_-]{43};/);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(setCookie).not.toMatch(/Secure/); // plain HTTP here; Secure under TLS
    const cookie = setCookie.split(';')[0]!;
    expect((await fetch(`${server.url}/api/kpis`, { headers: { cookie } })).status).toBe(200);
    expect(await upgrade(server.url, { cookie })).toBe('open');

    // Revoked by the command line while the server runs: the token and its session stop at once.
    revokeToken(tokensPath, temp.record.id);
    expect((await fetch(`${server.url}/api/kpis`, { headers: { cookie } })).status).toBe(401);
    expect((await fetch(`${server.url}/api/kpis`, { headers: bearer(temp.token) })).status).toBe(401);
    expect(await upgrade(server.url, { cookie })).toBe(401);
  });

  it('rate-limits failed attempts per client, before checking the next credential', async () => {
    // This test runs last: it locks its client address out for a minute. The tests before it
    // made a few failed attempts too; the limit is 5 per minute.
    const statuses: number[] = [];
    for (let i = 0; i < 10 && statuses.at(-1) !== 429; i++) {
      const res = await fetch(`${server.url}/api/kpis`, {
        headers: bearer(`cdcui_000000000000_${'A'.repeat(43)}`),
      });
      statuses.push(res.status);
    }
    expect(statuses.at(-1)).toBe(429);
    expect(statuses.slice(0, -1).every((s) => s === 401)).toBe(true);
    expect(statuses.length).toBeLessThanOrEqual(5);
    // Now even a valid token is not checked from this client until the minute passes.
    const limited = await fetch(`${server.url}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: viewer }),
    });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await fetch(`${server.url}/api/kpis`, { headers: bearer(viewer) })).status).toBe(429);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it('`cdc ui --host 0.0.0.0` without tokens refuses to start (exit 2), saying what to do', async () => {
    const proc = startCdc(
      ['ui', '--host', '0.0.0.0', '--port', String(UI_PORT), '--tokens', path.join(tmp.dir, 'none.json')],
      { connection: ctx.connection },
    );
    expect(await proc.exited).toBe(2);
    expect(proc.stderr()).toMatch(
      /requires API tokens.*cdc ui tokens create --role viewer.*--trusted-network/s,
    );
  });
});
