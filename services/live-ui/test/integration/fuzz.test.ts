import net from 'node:net';
import path from 'node:path';
import pino from 'pino';
import WebSocket from 'ws';
import type { Logger } from '@cdc/core';
import { createTestContext, seededRandom, testSeed, type SeededRandom, type TestContext } from '@cdc/testing';
import { loadLiveUiConfig, startLiveUi, type LiveUiServer } from '../../src';
import { booking, cancel, GoldProducer, PipelineData, seedWorkedExample } from '../fixtures/pipeline-data';
import { tempDir } from './helpers';

/**
 * Random well-formed requests against the live UI, each on a fresh connection (no keep-alive),
 * while gold changes stream in and websocket clients send random frames: every request gets a
 * status line, none a 5xx, and nothing a client sends is logged at error level. Stopping the
 * server afterwards (afterAll) also proves no connection was left open: a request with an
 * `Upgrade` header that did not become a websocket used to keep its socket, and the server's
 * close, for ever. FUZZ_REQUESTS overrides the count.
 */
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 2000);
const PARALLEL = 16;
const WS_CLIENTS = 150;
const MAX_PAYLOAD_BYTES = 4096;

const PATHS = [
  '/',
  '/index.html',
  '/app.js',
  '/api/kpis',
  '/api/alerts',
  '/api/summary',
  '/api/bookings',
  '/api/bookings.csv',
  '/api/filters',
  '/api/health',
  '/api/dead-letters',
  '/api/config',
  '/api/openapi.json',
  '/api/docs',
  '/api/docs/',
  '/healthz',
  '/metrics',
  '/ws',
  '/vendor/chart.umd.min.js',
  '/nope',
  '/api/',
  '/api/kpis/',
  '/../etc/passwd',
  '/%2e%2e/%2e%2e/etc/passwd',
  '/api/%ff',
  '//api//kpis',
];
const METHODS = ['GET', 'GET', 'GET', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'BREW'];
const PARAMS = [
  'status',
  'movie',
  'from',
  'to',
  'page',
  'pageSize',
  'sort',
  'order',
  'limit',
  'since',
  'epoch',
  'x',
];
const VALUES = [
  'BOOKED',
  'CANCELLED',
  'M001',
  '(none)',
  '2025-09-03',
  '2025-13-45',
  '1',
  '0',
  '-1',
  '999999',
  '500',
  '1e309',
  '',
  '%00',
  '%ff%fe',
  'a'.repeat(300),
  '<script>',
  "'; DROP TABLE bookings;--",
  '=HYPERLINK("x")',
];
const HEADERS: ((r: SeededRandom) => string)[] = [
  () => 'Accept: application/json',
  () => 'Accept: text/csv',
  () => 'Accept-Encoding: gzip, br',
  (r) => `Range: bytes=${r.int(0, 100)}-${r.int(0, 100)}`,
  () => 'If-None-Match: "abc"',
  (r) => `Origin: http://${r.oneOf(['evil.example', '127.0.0.1'])}`,
  (r) => `Cookie: session=${r.bytes(8).toString('hex')}`,
  (r) => `Authorization: Bearer ${r.bytes(8).toString('hex')}`,
  () => 'Content-Type: application/json',
  () => 'Upgrade: websocket',
  () => 'Connection: Upgrade',
  () => 'Sec-WebSocket-Version: 13',
  (r) => `Sec-WebSocket-Key: ${r.bytes(16).toString('base64')}`,
  () => 'Upgrade: h2c',
  (r) => `X-Fuzz: ${r.bytes(r.int(1, 64)).toString('base64')}`,
  () => 'Expect: 100-continue',
];

function randomRequest(r: SeededRandom, host: string): { text: string; line: string } {
  const method = r.oneOf(METHODS);
  const params = Array.from({ length: r.int(0, 4) }, () => {
    const v = r.oneOf(VALUES);
    return `${r.oneOf(PARAMS)}=${/%/.test(v) ? v : encodeURIComponent(v)}`;
  });
  const target = `${r.oneOf(PATHS)}${params.length > 0 ? `?${params.join('&')}` : ''}`;
  const headers = Array.from({ length: r.int(0, 4) }, () => r.oneOf(HEADERS)(r));
  const body =
    method !== 'GET' && method !== 'HEAD' && r.chance(0.5) ? r.bytes(r.int(0, 2000)).toString('base64') : '';
  const lines = [`${method} ${target} HTTP/1.1`, `Host: ${host}`, 'Connection: close', ...headers];
  if (body) lines.push(`Content-Length: ${body.length}`);
  return {
    text: `${lines.join('\r\n')}\r\n\r\n${body}`,
    line: `${method} ${target} [${headers.join('; ')}]`,
  };
}

/** Sends one request on a fresh connection; resolves with the status, or the error that ended it. */
function send(port: number, text: string): Promise<{ status: number | null; error: string | null }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let head = '';
    let error: string | null = null;
    socket.setTimeout(30_000, () => socket.destroy(new Error('no answer within 30 s')));
    socket.on('connect', () => socket.write(text));
    socket.on('data', (d: Buffer) => {
      if (head.length < 64) head += d.toString('latin1');
    });
    socket.on('error', (err: NodeJS.ErrnoException) => (error ??= err.code ?? err.message));
    socket.on('close', () => {
      // A 100 Continue is interim: the final status follows it.
      const statuses = [...head.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
      const status = statuses.find((s) => s >= 200) ?? null;
      resolve({ status, error: status === null ? (error ?? 'closed without a status') : null });
    });
  });
}

/** A websocket client that sends a few random frames (some over the size limit), then leaves. */
async function wsClient(r: SeededRandom, url: string, origin: string): Promise<void> {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/ws`, { origin });
  ws.on('error', () => undefined);
  const opened = await new Promise<boolean>((resolve) => {
    ws.once('open', () => resolve(true));
    ws.once('close', () => resolve(false));
    ws.once('unexpected-response', () => resolve(false));
  });
  if (opened) {
    for (let i = r.int(1, 4); i > 0 && ws.readyState === WebSocket.OPEN; i--) {
      const kind = r.int(0, 4);
      if (kind === 0) ws.send(r.bytes(r.int(MAX_PAYLOAD_BYTES + 1, MAX_PAYLOAD_BYTES * 4)));
      else if (kind === 1) ws.send('x'.repeat(r.int(MAX_PAYLOAD_BYTES + 1, MAX_PAYLOAD_BYTES * 2)));
      else if (kind === 2) ws.send(JSON.stringify({ type: r.oneOf(['resync', 'hello', 42]) }));
      else if (kind === 3) ws.send(r.bytes(r.int(0, 64)).toString('latin1'));
      else ws.ping(r.bytes(r.int(0, 100)));
    }
  }
  await new Promise((resolve) => setTimeout(resolve, r.int(0, 50)));
  if (r.chance(0.5)) ws.terminate();
  else ws.close();
}

describe('the live UI under random requests', () => {
  let ctx: TestContext;
  let tmp: ReturnType<typeof tempDir>;
  let data: PipelineData;
  let gold: GoldProducer;
  let server: LiveUiServer;
  const logLines: { level: number; msg: string; line: string }[] = [];

  beforeAll(async () => {
    ctx = await createTestContext({ name: 'ui-fuzz' });
    tmp = tempDir('fuzz');
    const dbPath = path.join(tmp.dir, 'aggregator.db');
    data = PipelineData.open(dbPath);
    gold = await GoldProducer.create(
      ctx.track(ctx.kafka.producer()),
      ctx.connection.registryUrl,
      ctx.topics.gold,
    );
    await gold.send(seedWorkedExample(data));
    const logger = pino(
      { level: 'debug' },
      {
        write: (line: string) => {
          const parsed = JSON.parse(line) as { level: number; msg: string };
          logLines.push({ level: parsed.level, msg: parsed.msg, line });
        },
      },
    ) as unknown as Logger;
    const config = loadLiveUiConfig(
      { UI_HEARTBEAT_MS: '1000', UI_HEALTH_INTERVAL_MS: '1000' },
      { port: 0, dbPath, maxPayloadBytes: MAX_PAYLOAD_BYTES },
    );
    server = await startLiveUi({ config, connection: ctx.connection, logger });
    await server.ready;
  });

  afterAll(async () => {
    await server?.stop();
    data?.close();
    await ctx?.cleanup();
    tmp?.remove();
  });

  it('answers every well-formed request with a status, never a 5xx, and logs nothing a client did as an error', async () => {
    const seed = testSeed('live-ui fuzz');
    const r = seededRandom(seed);
    const host = `127.0.0.1:${server.port}`;
    // The live stream: a gold change every few milliseconds while the requests run.
    let streaming = true;
    const stream = (async () => {
      for (let i = 0; streaming; i++) {
        const id = `F${i}`;
        const b = booking(id, `M00${(i % 5) + 1}`, (i % 4) + 1, 1000 + i, i % 60);
        await gold.send(data.apply([{ booking: i % 3 === 0 ? cancel(b) : b, eventTsMs: Date.now() }]));
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();

    const requests = Array.from({ length: REQUESTS }, () => randomRequest(r, host));
    const wsSeeds = Array.from({ length: WS_CLIENTS }, (_, i) => seed + 1 + i);
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    let next = 0;
    const worker = async () => {
      while (next < requests.length) {
        const req = requests[next++]!;
        const { status, error } = await send(server.port, req.text);
        if (status === null) failures.push(`${req.line}: ${error}`);
        else {
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          if (status >= 500) failures.push(`${req.line}: ${status}`);
        }
      }
    };
    const wsWorker = async () => {
      for (let s = wsSeeds.shift(); s !== undefined; s = wsSeeds.shift())
        await wsClient(seededRandom(s), server.url, server.url);
    };
    await Promise.all([...Array.from({ length: PARALLEL }, worker), wsWorker(), wsWorker()]);
    streaming = false;
    await stream;

    process.stderr.write(`statuses: ${JSON.stringify(Object.fromEntries(statuses))}\n`);
    expect(failures).toEqual([]);
    const errors = logLines.filter((l) => l.level >= 50).map((l) => l.line);
    expect(errors).toEqual([]);
    // What clients did wrong is logged below warn, or at warn at most a few times.
    const warnings = logLines.filter((l) => l.level === 40);
    expect(warnings.length).toBeLessThan(50);
  }, 600_000);
});
