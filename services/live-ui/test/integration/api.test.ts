import SwaggerParser from '@apidevtools/swagger-parser';
import net from 'node:net';
import path from 'node:path';
import WebSocket from 'ws';
import { createLogger, waitFor } from '@cdc/core';
import { BOOKING_ROW_COLUMNS as BOOKING_COLUMNS } from '@cdc/read-model';
import { createTestContext, readToEnd, type TestContext } from '@cdc/testing';
import {
  decodeMovies,
  loadLiveUiConfig,
  parseCsv,
  startLiveUi,
  type ChangesMessage,
  type LiveUiServer,
  type ServerMessage,
  type SnapshotMessage,
} from '../../src';
import {
  booking,
  cancel,
  GoldProducer,
  PipelineData,
  seedWorkedExample,
  WORKED_EXAMPLE_CREATES,
} from '../fixtures/pipeline-data';
import { MAX_HEADER_BYTES } from '../../src/http-app';
import { tempDir } from './helpers';
import { ApiDescription } from './openapi-check';

/**
 * The HTTP API and the websocket protocol of an in-process server on the real broker: every bad
 * parameter gets a 400 with its reason, foreign origins are refused, and a client that
 * reconnects with ?since= resumes without gaps or repeats. Every HTTP response checked here is
 * also validated against the server's OpenAPI description (openapi-check.ts).
 */
const FORMULA = '=HYPERLINK("http://evil.example","click")';

/** A websocket client that records every message. */
class Client {
  readonly messages: ServerMessage[] = [];
  closeCode: number | null = null;
  readonly ws: WebSocket;
  readonly opened: Promise<void>;

  constructor(url: string, options: WebSocket.ClientOptions = {}) {
    this.ws = new WebSocket(url, options);
    this.ws.on('message', (d: WebSocket.RawData) =>
      this.messages.push(JSON.parse((d as Buffer).toString()) as ServerMessage),
    );
    this.ws.on('close', (code) => (this.closeCode = code));
    this.ws.on('error', () => undefined);
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      this.ws.once('error', reject);
    });
  }

  of<T extends ServerMessage['type']>(type: T): Extract<ServerMessage, { type: T }>[] {
    return this.messages.filter((m) => m.type === type) as Extract<ServerMessage, { type: T }>[];
  }

  close(): void {
    this.ws.terminate();
  }
}

describe('the live UI API and websocket', () => {
  let ctx: TestContext;
  let tmp: ReturnType<typeof tempDir>;
  let data: PipelineData;
  let gold: GoldProducer;
  let server: LiveUiServer;
  const clients: Client[] = [];
  let api: ApiDescription;
  const get = async (p: string, init: RequestInit = {}) =>
    api.check(init.method ?? 'GET', p, await fetch(`${server.url}${p}`, init));
  const json = async (p: string) => {
    const res = await get(p);
    expect(res.status).toBe(200);
    return (await res.json()) as Record<string, unknown> & { rows: Record<string, unknown>[] };
  };
  const connect = (query = '', options: WebSocket.ClientOptions = { origin: server.url }) => {
    const c = new Client(`${server.url.replace('http', 'ws')}/ws${query}`, options);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    ctx = await createTestContext({ name: 'ui-api' });
    tmp = tempDir('api');
    const dbPath = path.join(tmp.dir, 'aggregator.db');
    data = PipelineData.open(dbPath);
    gold = await GoldProducer.create(
      ctx.track(ctx.kafka.producer()),
      ctx.connection.registryUrl,
      ctx.topics.gold,
    );
    const seeded = seedWorkedExample(data);
    const extra = data.apply([
      {
        booking: booking('B006', 'M006', 2, 900, 30, 'BOOKED', 1, FORMULA),
        eventTsMs: Date.UTC(2025, 8, 3, 11),
      },
      { booking: booking('B007', null, 6, 1800, 40), eventTsMs: Date.UTC(2025, 8, 3, 11) },
    ]);
    await gold.send([...seeded, ...extra]);
    const config = loadLiveUiConfig(
      { UI_HEARTBEAT_MS: '500', UI_HEALTH_INTERVAL_MS: '1000' },
      { port: 0, dbPath },
    );
    server = await startLiveUi({
      config,
      connection: ctx.connection,
      logger: createLogger('live-ui', 'silent'),
    });
    await server.ready;
    api = await ApiDescription.load(server.url);
  });

  afterAll(async () => {
    for (const c of clients) c.close();
    await server?.stop();
    data?.close();
    await ctx?.cleanup();
    tmp?.remove();
  });

  it('serves per-movie KPIs with the contract names, from movie_kpis or recomputed under filters', async () => {
    const stored = await json('/api/kpis');
    expect(stored.source).toBe('movie_kpis');
    const movies = stored.movies as Record<string, unknown>[];
    expect(movies.map((m) => m.movie_key)).toEqual([
      '(none)',
      'M001',
      'M002',
      'M003',
      'M004',
      'M005',
      'M006',
    ]);
    expect(movies[1]).toMatchObject({
      movie_id: 'M001',
      total_bookings: 1,
      cancelled_bookings: 1,
      total_lost_revenue_cents: 3000,
      cancellation_rate_percent: 100,
      status_changes: 1,
    });
    expect(movies[0]).toMatchObject({
      movie_id: null,
      total_bookings: 1,
      valid_bookings: 0,
      data_quality_score: 0,
    });

    // Recomputed over the rows of the whole day: the same KPIs as the independently computed ones.
    const recomputed = await json('/api/kpis?from=2025-09-03&to=2025-09-03');
    expect(recomputed.source).toBe('bookings');
    const byKey = new Map((recomputed.movies as Record<string, unknown>[]).map((m) => [m.movie_key, m]));
    for (const m of movies) {
      const r = byKey.get(m.movie_key)!;
      for (const k of Object.keys(r)) {
        if (k === 'updated_at' || k === 'last_event_ts_ms') continue;
        expect([m.movie_key, k, r[k]]).toEqual([m.movie_key, k, m[k]]);
      }
    }
    const booked = await json('/api/kpis?status=BOOKED&movie=M001,M002');
    expect((booked.movies as { movie_key: string }[]).map((m) => m.movie_key)).toEqual(['M002']);
  });

  it('serves the summary behind the cards and charts, under filters', async () => {
    const s = await json('/api/summary?movie=M001,M002,M003,M004,M005');
    expect(s).toMatchObject({
      total_bookings: 5,
      total_revenue_cents: 21200,
      active_revenue_cents: 12200,
      lost_revenue_cents: 9000,
      by_status: [
        { status: 'BOOKED', bookings: 3, revenue_cents: 12200 },
        { status: 'CANCELLED', bookings: 2, revenue_cents: 9000 },
      ],
    });
    expect((s.by_day_of_week as { bookings: number }[]).map((d) => d.bookings)).toEqual([
      0, 0, 0, 5, 0, 0, 0,
    ]);
    const all = await json('/api/summary');
    expect(all).toMatchObject({
      total_bookings: 7,
      valid_bookings: 6,
      invalid_bookings: 1,
      data_quality_score: 85.71,
    });
  });

  it('pages and sorts the filtered rows', async () => {
    const p1 = await json('/api/bookings?pageSize=3&sort=ticket_count&order=asc');
    expect(p1.total).toBe(7);
    expect(p1.rows.map((r) => r.booking_id)).toEqual(['B002', 'B005', 'B001']);
    const p3 = await json('/api/bookings?pageSize=3&page=3&sort=ticket_count&order=asc');
    expect(p3.rows.map((r) => r.booking_id)).toEqual(['B007']);
    const none = await json('/api/bookings?movie=(none)');
    expect(none.rows.map((r) => r.booking_id)).toEqual(['B007']);
    expect(Object.keys(none.rows[0]!)).toEqual([...BOOKING_COLUMNS]);
  });

  it('exports CSV with a timestamped name and neutralized formulas, parsing back to the rows', async () => {
    const res = await get('/api/bookings.csv?sort=booking_id&order=asc');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/csv');
    expect(res.headers.get('content-disposition')).toMatch(
      /^attachment; filename="bookings-\d{8}T\d{6}Z\.csv"$/,
    );
    const rows = parseCsv(await res.text());
    const api = await json('/api/bookings?sort=booking_id&order=asc');
    expect(rows[0]).toEqual([...BOOKING_COLUMNS]);
    const expected = api.rows.map((r) =>
      BOOKING_COLUMNS.map((c) =>
        r[c] === null
          ? ''
          : c === 'customer_id' && r[c] === FORMULA
            ? `'${FORMULA}`
            : String(r[c] as string | number),
      ),
    );
    expect(rows.slice(1)).toEqual(expected);
    expect(rows.find((r) => r[0] === 'B006')?.[BOOKING_COLUMNS.indexOf('customer_id')]).toBe(`'${FORMULA}`);
  });

  const BAD: [string, string][] = [
    ['/api/bookings?page=0', 'page'],
    ['/api/bookings?page=abc', 'page'],
    ['/api/bookings?page=1.5', 'page'],
    ['/api/bookings?page=1&page=2', 'page'],
    ['/api/bookings?pageSize=501', 'pageSize'],
    ['/api/bookings?pageSize=0', 'pageSize'],
    ['/api/bookings?sort=booking_id;DROP%20TABLE%20bookings', 'sort'],
    ['/api/bookings?sort=deleted', 'sort'],
    ['/api/bookings?order=up', 'order'],
    ['/api/bookings?from=2025-13-01', 'from'],
    ['/api/bookings?from=2025-02-30', 'from'],
    ['/api/bookings?to=yesterday', 'to'],
    ['/api/bookings?from=2025-09-05&to=2025-09-01', 'from'],
    ['/api/bookings?status=BOOKED%27%20OR%201=1', 'status'],
    ['/api/bookings?status=', 'status'],
    ['/api/bookings?status=BOOKED,,CANCELLED', 'status'],
    [
      `/api/bookings?status=${Array.from({ length: 21 }, (_, i) => `S${'X'.repeat(i + 1)}`).join(',')}`,
      'status',
    ],
    ['/api/bookings?movie=%27%20OR%20%271%27=%271', 'movie'],
    ['/api/bookings?movie=%3Cscript%3E', 'movie'],
    [`/api/bookings?movie=${'M'.repeat(65)}`, 'movie'],
    ['/api/bookings?limit=10', 'unknown parameter'],
    ['/api/kpis?page=1', 'unknown parameter'],
    ['/api/kpis?from=20250903', 'from'],
    ['/api/summary?sort=status', 'unknown parameter'],
    ['/api/summary?to=2025-9-3', 'to'],
    ['/api/bookings.csv?page=1', 'unknown parameter'],
    ['/api/bookings.csv?order=sideways', 'order'],
    ['/api/filters?x=1', 'unknown parameter'],
    ['/api/health?verbose=1', 'unknown parameter'],
    ['/api/config?x=1', 'unknown parameter'],
    ['/api/dead-letters?limit=0', 'limit'],
    ['/api/dead-letters?code=%3Cscript%3E', 'code'],
  ];

  it.each(BAD)('answers %s with 400 and the reason', async (p, name) => {
    const res = await get(p);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/json');
    const body = (await res.json()) as { error: string };
    expect(body.error).toContain(name);
  });

  it('answers unknown routes with 404, other methods with 405, and serves health and metrics', async () => {
    for (const p of ['/api/nope', '/nope', '/js/../../package.json', '/index.html.bak']) {
      const res = await get(p);
      expect([p, res.status]).toEqual([p, 404]);
    }
    const post = await get('/api/kpis', { method: 'POST' });
    expect(post.status).toBe(405);
    const page = await get('/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect((await get('/vendor/chart.umd.min.js')).status).toBe(200);
    const healthz = await json('/healthz');
    expect(healthz.ok).toBe(true);
    const health = await json('/api/health');
    expect(health).toMatchObject({ ready: true, movies: 7, data_quality_score: 85.71 });
    const metrics = await (await get('/metrics')).text();
    expect(metrics).toContain('cdc_live_ui_ws_clients');
    expect(metrics).toContain('cdc_live_ui_push_latency_seconds');
  });

  it('lists the dead letters behind the pipeline panel, newest first, by error code; the page that shows them is served', async () => {
    const headers = (code: string, offset: string) => ({
      'dlq.error.code': code,
      'dlq.error.message': `why ${offset}`,
      'dlq.source.topic': ctx.topics.bronze,
      'dlq.source.partition': '1',
      'dlq.source.offset': offset,
      'dlq.source.timestamp': '0',
    });
    const producer = ctx.track(ctx.kafka.producer());
    await producer.connect();
    await producer.send({
      topic: ctx.topics.deadLetter,
      messages: [
        {
          key: 'K1',
          value: Buffer.from('bad'),
          headers: headers('WRONG_MAGIC_BYTE', '7'),
          timestamp: '1000',
          partition: 0,
        },
        {
          key: 'K2',
          value: Buffer.from([0, 0, 0, 0, 9]),
          headers: headers('UNKNOWN_SCHEMA_ID', '8'),
          timestamp: '2000',
          partition: 0,
        },
      ],
    });
    type List = { total: number; dead_letters: Record<string, unknown>[] };
    const list = await waitFor(
      async () => {
        const l = (await json('/api/dead-letters')) as unknown as List;
        return l.total === 2 ? l : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 1000, what: 'two dead letters listed' },
    );
    expect(list.dead_letters).toEqual([
      {
        position: '0/1',
        time: 2000,
        error_code: 'UNKNOWN_SCHEMA_ID',
        error_message: 'why 8',
        source_topic: ctx.topics.bronze,
        source_partition: 1,
        source_offset: '8',
        size: 5,
        key: 'K2',
        replay_of: null,
      },
      expect.objectContaining({ position: '0/0', error_code: 'WRONG_MAGIC_BYTE', size: 3 }),
    ]);
    const one = (await json('/api/dead-letters?code=WRONG_MAGIC_BYTE&limit=5')) as unknown as List;
    expect(one.total).toBe(1);
    expect(((await json('/api/dead-letters?limit=1')) as unknown as List).dead_letters).toHaveLength(1);
    const page = await get('/dead-letters.html');
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('/js/dead-letters.js');
    expect(await (await get('/')).text()).toContain('href="/dead-letters.html"');
  });

  it('counts dead letters as records: the commit markers of the enricher’s transactions take offsets, not dead letters', async () => {
    const offsets = async () =>
      (await ctx.admin.fetchTopicOffsets(ctx.topics.deadLetter)).reduce(
        (n, p) => n + Number(p.high) - Number(p.low),
        0,
      );
    const records = (await readToEnd(ctx, ctx.topics.deadLetter)).length;
    const offsetsBefore = await offsets();
    // As the enricher writes them: in a transaction.
    const producer = ctx.track(
      ctx.kafka.producer({
        transactionalId: `${ctx.topics.deadLetter}.tx`,
        idempotent: true,
        maxInFlightRequests: 1,
      }),
    );
    await producer.connect();
    const tx = await producer.transaction();
    await tx.send({
      topic: ctx.topics.deadLetter,
      messages: ['K3', 'K4'].map((key) => ({ key, value: Buffer.from('bad'), partition: 0 })),
    });
    await tx.commit();
    // Two records and a commit marker (written just after commit() returns: wait for it).
    await waitFor(async () => ((await offsets()) === offsetsBefore + 3 ? true : undefined), {
      timeoutMs: 10_000,
      what: 'the commit marker to take its offset',
    });
    await waitFor(async () => ((await json('/api/health')).dead_letters === records + 2 ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 500,
      what: `the pipeline panel to count ${records + 2} dead letters`,
    });
  });

  it('refuses a websocket from a foreign origin, a bad query and an oversized message', async () => {
    await expect(connect('', { origin: 'http://evil.example' }).opened).rejects.toThrow('HTTP 403');
    await expect(connect('', { origin: 'null' }).opened).rejects.toThrow('HTTP 403');
    await expect(connect('?since=abc&epoch=x').opened).rejects.toThrow('HTTP 400');
    await expect(connect('?since=1').opened).rejects.toThrow('HTTP 400');
    await expect(connect('?hello=1').opened).rejects.toThrow('HTTP 400');
    const big = connect();
    await big.opened;
    big.ws.send('x'.repeat(10_000));
    await waitFor(() => big.closeCode !== null, { timeoutMs: 5000, what: 'the oversized message to close' });
    expect(big.closeCode).toBe(1009);
  });

  it('sends a snapshot, then change batches; a reconnect with ?since= resumes without gaps or repeats', async () => {
    const a = connect();
    await a.opened;
    await waitFor(() => a.of('snapshot').length === 1, { timeoutMs: 10_000, what: 'the snapshot' });
    const snap = a.of('snapshot')[0] as SnapshotMessage;
    expect(decodeMovies(snap.movies).map((m) => m.movie_key)).toEqual([
      '(none)',
      'M001',
      'M002',
      'M003',
      'M004',
      'M005',
      'M006',
    ]);
    expect(decodeMovies(snap.movies).find((m) => m.movie_key === 'M001')).toMatchObject({
      total_lost_revenue_cents: 3000,
    });
    a.close();

    // While A is away: two separate changes.
    const [, b2, , b4, b5] = WORKED_EXAMPLE_CREATES;
    await gold.send(data.apply([{ booking: cancel(b2!), eventTsMs: Date.now() }]));
    await waitFor(async () => ((await json('/healthz')).version as number) > snap.version, {
      timeoutMs: 10_000,
      what: 'the first change batch',
    });
    await gold.send(data.apply([{ booking: cancel(b4!), eventTsMs: Date.now() }]));
    await waitFor(async () => ((await json('/healthz')).version as number) > snap.version + 1, {
      timeoutMs: 10_000,
      what: 'the second change batch',
    });

    const resumed = connect(`?since=${snap.version}&epoch=${snap.epoch}`);
    await resumed.opened;
    await waitFor(() => resumed.messages.length >= 1, { timeoutMs: 10_000, what: 'the catch-up' });
    const catchUp = resumed.messages[0] as ChangesMessage;
    expect(catchUp.type).toBe('changes');
    expect(catchUp.from).toBe(snap.version);
    expect(
      decodeMovies(catchUp.movies)
        .map((m) => m.movie_key)
        .sort(),
    ).toEqual(['M002', 'M004']);
    expect(decodeMovies(catchUp.movies).find((m) => m.movie_key === 'M004')).toMatchObject({
      cancelled_bookings: 1,
    });

    // Then the live stream continues from there: the next batch starts where the catch-up ended.
    await gold.send(data.apply([{ booking: cancel(b5!), eventTsMs: Date.now() }]));
    await waitFor(() => resumed.of('changes').length >= 2, { timeoutMs: 10_000, what: 'the next batch' });
    const next = resumed.of('changes')[1]!;
    expect(next.from).toBe(catchUp.version);
    expect(decodeMovies(next.movies).map((m) => m.movie_key)).toEqual(['M005']);

    // Up to date: nothing but a heartbeat. Another epoch: a fresh snapshot.
    const current = connect(`?since=${next.version}&epoch=${snap.epoch}`);
    await current.opened;
    await waitFor(() => current.messages.length >= 1, { timeoutMs: 10_000, what: 'the first message' });
    expect(current.messages[0]).toMatchObject({ type: 'heartbeat', version: next.version });
    const stranger = connect(`?since=${next.version}&epoch=abc123`);
    await stranger.opened;
    await waitFor(() => stranger.messages.length >= 1, { timeoutMs: 10_000, what: 'the snapshot' });
    expect(stranger.messages[0]).toMatchObject({ type: 'snapshot', version: next.version });
  });

  it('sends heartbeats and terminates a client that stops answering pings', async () => {
    const live = connect();
    const deaf = connect('', { origin: server.url, autoPong: false });
    await Promise.all([live.opened, deaf.opened]);
    await waitFor(() => live.of('heartbeat').length >= 2, { timeoutMs: 10_000, what: 'heartbeats' });
    await waitFor(() => deaf.closeCode !== null, {
      timeoutMs: 10_000,
      what: 'the deaf client to be dropped',
    });
    expect(deaf.closeCode).toBe(1006);
    expect(live.closeCode).toBeNull();
  });

  it('serves a valid OpenAPI 3 description, and every operation in it answers as described', async () => {
    const res = await get('/api/openapi.json');
    expect(res.status).toBe(200);
    await expect(SwaggerParser.validate((await res.json()) as never)).resolves.toBeDefined();
    const paths = Object.keys(api.doc.paths);
    expect(paths).toEqual(expect.arrayContaining(['/api/kpis', '/api/bookings.csv', '/healthz']));
    for (const p of paths) {
      expect([p, (await get(p)).status]).toEqual([p, 200]);
      expect([p, (await get(p, { method: 'HEAD' })).status]).toEqual([p, 200]);
    }
    const docs = await get('/api/docs/');
    expect(docs.status).toBe(200);
    expect(docs.headers.get('content-type')).toContain('text/html');
  });

  /** Sends raw bytes; resolves with the status line of the answer before the server closed. */
  const raw = (bytes: string) =>
    new Promise<string>((resolve, reject) => {
      const socket = net.connect(server.port, '127.0.0.1');
      let data = '';
      socket.setEncoding('latin1');
      socket.on('data', (d: string) => (data += d));
      const done = () =>
        data ? resolve(data.split('\r\n', 1)[0]!) : reject(new Error('the socket closed without an answer'));
      socket.on('error', done);
      socket.on('close', done);
      socket.write(bytes);
    });
  const request = (target: string, headers = '') =>
    `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${headers}\r\n`;

  it('answers malformed and oversized requests with a status, never a silently closed socket', async () => {
    expect(await raw(request('/api/kpis'))).toBe('HTTP/1.1 200 OK');
    expect(await raw(request(`/api/kpis?movie=${'M'.repeat(20 * 1024)}`))).toBe('HTTP/1.1 414 URI Too Long');
    expect(await raw(request('/api/kpis', `X-Big: ${'b'.repeat(MAX_HEADER_BYTES)}\r\n`))).toBe(
      'HTTP/1.1 431 Request Header Fields Too Large',
    );
    expect(await raw('NOT A REQUEST\r\n\r\n')).toBe('HTTP/1.1 400 Bad Request');
    expect(await raw('GET /api/kpis HTTP/1.1 extra\r\nHost: 127.0.0.1\r\n\r\n')).toBe(
      'HTTP/1.1 400 Bad Request',
    );
    expect(await raw(request('/api/%zz'))).toBe('HTTP/1.1 400 Bad Request');
  });
});
