import http from 'node:http';
import type { AddressInfo } from 'node:net';
import avro from 'avsc';
import { createDecoder, createRegistryClient, DecodeError, frame, RegistryError } from '../../src';

/**
 * The registry client (the library plus registry-errors.ts) against a real socket: a tiny HTTP
 * server on 127.0.0.1 answers as a registry would (or would not), and a closed port stands for an
 * unreachable one. What is under test is the mapping of each failure to our errors.
 */
interface Answer {
  status: number;
  body?: unknown;
  /** Send this text as is (not JSON). */
  text?: string;
  /** Never answer (the request hangs until the client gives up). */
  hang?: boolean;
}
interface Seen {
  method: string;
  url: string;
  body: string;
}

const BASE_PATH = '/apis/ccompat/v7';

async function fakeRegistry(answer: (req: Seen) => Answer) {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Seen = {
        method: req.method ?? '',
        url: req.url ?? '',
        body: Buffer.concat(chunks).toString(),
      };
      seen.push(r);
      const a = answer(r);
      if (a.hang) return;
      if (a.text !== undefined) {
        res.writeHead(a.status, { 'content-type': 'text/plain' }).end(a.text);
      } else {
        res
          .writeHead(a.status, { 'content-type': 'application/vnd.schemaregistry.v1+json' })
          .end(a.body === undefined ? '' : JSON.stringify(a.body));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${BASE_PATH}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const errorOf = async (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => err,
  );

const RECORD = { type: 'record', name: 'R', fields: [{ name: 'a', type: 'int' }] };

describe('registry client: answers', () => {
  let registry: Awaited<ReturnType<typeof fakeRegistry>>;
  afterEach(() => registry.close());

  it('uses the base path, and returns ids, avsc types, compatibility and subjects', async () => {
    registry = await fakeRegistry((req) => {
      if (req.url === `${BASE_PATH}/schemas/ids/7`)
        return { status: 200, body: { schema: JSON.stringify(RECORD) } };
      if (req.url === `${BASE_PATH}/subjects/s-value/versions`) return { status: 200, body: { id: 7 } };
      if (req.url === `${BASE_PATH}/config/s-value`)
        return { status: 200, body: { compatibility: 'BACKWARD' } };
      if (req.url.startsWith(`${BASE_PATH}/compatibility/subjects/s-value/versions/latest`)) {
        return { status: 200, body: { is_compatible: false, messages: ['field a changed type'] } };
      }
      if (req.url === `${BASE_PATH}/subjects`) return { status: 200, body: ['s-value'] };
      return { status: 404, body: { error_code: 40401, message: 'Subject not found' } };
    });
    const client = createRegistryClient(`${registry.url}/`);
    expect(client.baseUrl).toBe(registry.url);

    expect(await client.register('s-value', JSON.stringify(RECORD))).toBe(7);
    const type = await client.schemaById(7);
    expect(avro.Type.isType(type)).toBe(true);
    expect(type.equals(avro.Type.forSchema(RECORD as avro.Schema))).toBe(true);
    await client.setCompatibility('s-value', 'BACKWARD');
    expect(await client.checkCompatibility('s-value', '"string"')).toEqual({
      compatible: false,
      messages: ['field a changed type'],
    });
    expect(await client.checkCompatibility('other-value', '"string"')).toBeNull();
    expect(await client.subjects()).toEqual(['s-value']);

    const byUrl = (prefix: string) => registry.seen.filter((r) => r.url.startsWith(BASE_PATH + prefix));
    expect(byUrl('/subjects/s-value/versions')[0]).toMatchObject({ method: 'POST' });
    expect(JSON.parse(byUrl('/subjects/s-value/versions')[0]!.body)).toEqual({
      schema: JSON.stringify(RECORD),
    });
    expect(byUrl('/config/s-value')[0]).toMatchObject({
      method: 'PUT',
      body: '{"compatibility":"BACKWARD"}',
    });
    expect(byUrl('/compatibility/subjects/s-value')[0]!.url).toContain('verbose=true');
    // Registration alone never touches the subject's compatibility level.
    expect(registry.seen.filter((r) => r.url.includes('/config')).map((r) => r.method)).toEqual(['PUT']);
  });

  it('maps 404 (40403) for a schema id to UNKNOWN_SCHEMA_ID, final', async () => {
    registry = await fakeRegistry(() => ({
      status: 404,
      body: { error_code: 40403, message: 'Schema 9 not found' },
    }));
    const err = await errorOf(createRegistryClient(registry.url).schemaById(9));
    expect(err).toBeInstanceOf(DecodeError);
    expect(err).toMatchObject({ code: 'UNKNOWN_SCHEMA_ID', retriable: false });
    expect((err as Error).message).toContain('Schema 9 not found');
  });

  it('maps 5xx to UNAVAILABLE, retriable, after one request (the library does not retry)', async () => {
    registry = await fakeRegistry(() => ({
      status: 500,
      body: { error_code: 50001, message: 'store error' },
    }));
    const client = createRegistryClient(registry.url);
    for (const call of [client.schemaById(9), client.register('s-value', '"string"'), client.subjects()]) {
      const err = await errorOf(call);
      expect(err).toBeInstanceOf(RegistryError);
      expect(err).toMatchObject({ code: 'UNAVAILABLE', retriable: true, status: 500 });
    }
    expect(registry.seen).toHaveLength(3);
  });

  it('maps a 503 from a proxy without a registry body to UNAVAILABLE', async () => {
    registry = await fakeRegistry(() => ({ status: 503, text: 'registry down' }));
    const err = await errorOf(createRegistryClient(registry.url).schemaById(9));
    expect(err).toMatchObject({ code: 'UNAVAILABLE', retriable: true, status: 503 });
  });

  it('maps 409 on registration to SCHEMA_INCOMPATIBLE, final', async () => {
    registry = await fakeRegistry(() => ({
      status: 409,
      body: { error_code: 409, message: 'Schema being registered is incompatible with an earlier schema' },
    }));
    const err = await errorOf(createRegistryClient(registry.url).register('s-value', '"string"'));
    expect(err).toBeInstanceOf(RegistryError);
    expect(err).toMatchObject({ code: 'SCHEMA_INCOMPATIBLE', retriable: false, status: 409 });
  });

  it('maps other registry answers (422, 400 with an error body) to DEPENDENCY_FAILED, final, with the status', async () => {
    registry = await fakeRegistry((req) =>
      req.method === 'POST'
        ? { status: 422, body: { error_code: 42201, message: 'Invalid schema' } }
        : { status: 400, body: { error_code: 400, message: 'bad request' } },
    );
    const client = createRegistryClient(registry.url);
    expect(await errorOf(client.register('s-value', '{'))).toMatchObject({
      code: 'DEPENDENCY_FAILED',
      retriable: false,
      status: 422,
    });
    expect(await errorOf(client.schemaById(9))).toMatchObject({
      code: 'DEPENDENCY_FAILED',
      retriable: false,
      status: 400,
    });
  });

  it('maps a 404 with no registry body (a wrong URL) to DEPENDENCY_FAILED without a status, not to a dead letter', async () => {
    registry = await fakeRegistry(() => ({ status: 404 }));
    const err = await errorOf(createRegistryClient(registry.url).schemaById(9));
    expect(err).toBeInstanceOf(RegistryError);
    expect(err).toMatchObject({ code: 'DEPENDENCY_FAILED', retriable: false, status: undefined });
    expect((err as Error).message).toContain('SCHEMA_REGISTRY_URL');
  });

  it('maps a writer schema avsc cannot parse to SCHEMA_MISMATCH, final', async () => {
    registry = await fakeRegistry(() => ({ status: 200, body: { schema: '{"type":"nonsense"}' } }));
    const err = await errorOf(createRegistryClient(registry.url).schemaById(9));
    expect(err).toBeInstanceOf(DecodeError);
    expect(err).toMatchObject({ code: 'SCHEMA_MISMATCH', retriable: false });
  });

  it('maps a request with no answer to UNAVAILABLE once the timeout passes', async () => {
    registry = await fakeRegistry(() => ({ status: 0, hang: true }));
    const err = await errorOf(createRegistryClient(registry.url, { timeoutMs: 200 }).schemaById(9));
    expect(err).toBeInstanceOf(RegistryError);
    expect(err).toMatchObject({ code: 'UNAVAILABLE', retriable: true, status: undefined });
    expect((err as Error).message).toContain('Timeout');
  });
});

describe('registry client: no registry', () => {
  it('maps a refused connection to UNAVAILABLE, retriable, for every call', async () => {
    const client = createRegistryClient(`http://127.0.0.1:${await closedPort()}${BASE_PATH}`);
    const calls = [
      client.schemaById(9),
      client.register('s-value', '"string"'),
      client.setCompatibility('s-value', 'BACKWARD'),
      client.checkCompatibility('s-value', '"string"'),
      client.subjects(),
    ];
    for (const call of calls) {
      const err = await errorOf(call);
      expect(err).toBeInstanceOf(RegistryError);
      expect(err).toMatchObject({ code: 'UNAVAILABLE', retriable: true, status: undefined });
      expect((err as Error).message).toContain('ECONNREFUSED');
    }
  });
});

describe('a decoder on the client', () => {
  let registry: Awaited<ReturnType<typeof fakeRegistry>>;
  afterEach(() => registry.close());

  it('dead-letters an unknown id, waits out an outage, and decodes once the registry is back', async () => {
    let down = true;
    registry = await fakeRegistry((req) => {
      if (req.url.endsWith('/schemas/ids/1')) {
        return down
          ? { status: 503, text: 'down' }
          : { status: 200, body: { schema: JSON.stringify(RECORD) } };
      }
      return { status: 404, body: { error_code: 40403, message: 'Schema not found' } };
    });
    const type = avro.Type.forSchema(RECORD as avro.Schema);
    const decoder = createDecoder<{ a: number }>(createRegistryClient(registry.url), type);
    const value = frame(1, type.toBuffer({ a: 5 }));

    expect(await errorOf(decoder.decode(frame(2, Buffer.from([0]))))).toMatchObject({
      code: 'UNKNOWN_SCHEMA_ID',
    });
    expect(await errorOf(decoder.decode(value))).toMatchObject({
      code: 'UNAVAILABLE',
      retriable: true,
    });
    down = false;
    expect(await decoder.decode(value)).toEqual({ a: 5 });
    expect(decoder.decodeKnown(value)).toEqual({ a: 5 });
  });
});
