import avro from 'avsc';
import {
  createDecoder,
  createEncoder,
  DecodeError,
  frame,
  loadSchema,
  RegistryError,
  type RegistryClient,
} from '../../src';
import type { Booking, BookingChange } from '../../src';
import { sampleChange } from '../fixtures/changes';

/**
 * An in-memory registry standing in for HTTP (the codec's caching logic is what is under test;
 * registry.test.ts tests the client). Like the library, it parses each writer schema once.
 */
function memoryRegistry() {
  const schemas: string[] = [];
  const types = new Map<number, avro.Type>();
  const calls = { register: 0, schemaById: 0 };
  const client: RegistryClient = {
    baseUrl: 'memory:',
    async register(_subject, schema) {
      calls.register++;
      const i = schemas.indexOf(schema);
      if (i >= 0) return i + 1;
      schemas.push(schema);
      return schemas.length;
    },
    async schemaById(id) {
      calls.schemaById++;
      const s = schemas[id - 1];
      if (s === undefined) throw new DecodeError('UNKNOWN_SCHEMA_ID', `schema id ${id} not found`);
      let t = types.get(id);
      if (t === undefined) {
        t = avro.Type.forSchema(JSON.parse(s) as avro.Schema);
        types.set(id, t);
      }
      return t;
    },
    async setCompatibility() {},
    async checkCompatibility() {
      return null;
    },
    async subjects() {
      return [];
    },
  };
  return { client, calls };
}

describe('codec', () => {
  const { text, type } = loadSchema('BookingChange');

  it('round-trips a BookingChange and asks the registry for a writer schema once', async () => {
    const { client, calls } = memoryRegistry();
    const encoder = await createEncoder<BookingChange>(client, 'bronze-value', text, type);
    const decoder = createDecoder<BookingChange>(client, type);
    for (let i = 0; i < 100; i++) {
      const change = { ...sampleChange, event_id: `e-${i}` };
      expect(await decoder.decode(encoder.encode(change))).toEqual(change);
    }
    expect(calls.schemaById).toBe(1);
  });

  it('decodeKnown decodes synchronously once the writer schema is cached, undefined before', async () => {
    const { client, calls } = memoryRegistry();
    const encoder = await createEncoder<BookingChange>(client, 'bronze-value', text, type);
    const decoder = createDecoder<BookingChange>(client, type);
    const bytes = encoder.encode(sampleChange);
    expect(decoder.decodeKnown(bytes)).toBeUndefined();
    expect(await decoder.decode(bytes)).toEqual(sampleChange);
    expect(decoder.decodeKnown(bytes)).toEqual(sampleChange);
    expect(calls.schemaById).toBe(1);
    expect(() => decoder.decodeKnown(Buffer.from([0, 0, 0]))).toThrow(DecodeError);
    const garbage = frame(encoder.schemaId, Buffer.from([0xff, 0xff, 0xff]));
    expect(() => decoder.decodeKnown(garbage)).toThrow(DecodeError);
  });

  it('reads an older writer schema through a resolver (BACKWARD evolution)', async () => {
    const { client } = memoryRegistry();
    const v1 = { type: 'record', name: 'R', fields: [{ name: 'a', type: 'int' }] };
    const v2 = avro.Type.forSchema({
      type: 'record',
      name: 'R',
      fields: [
        { name: 'a', type: 'int' },
        { name: 'b', type: 'string', default: 'x' },
      ],
    });
    const old = await createEncoder<{ a: number }>(
      client,
      's',
      JSON.stringify(v1),
      avro.Type.forSchema(v1 as avro.Schema),
    );
    const decoder = createDecoder<{ a: number; b: string }>(client, v2);
    expect(await decoder.decode(old.encode({ a: 7 }))).toEqual({ a: 7, b: 'x' });
  });

  it('classifies undecodable bytes and remembers unknown ids', async () => {
    const { client, calls } = memoryRegistry();
    const encoder = await createEncoder<BookingChange>(client, 'bronze-value', text, type);
    const decoder = createDecoder<BookingChange>(client, type);
    const code = async (value: Buffer | null) => {
      try {
        await decoder.decode(value);
        return 'decoded';
      } catch (err) {
        expect(err).toBeInstanceOf(DecodeError);
        return (err as DecodeError).code;
      }
    };
    expect(await code(Buffer.from('hello world'))).toBe('WRONG_MAGIC_BYTE');
    expect(await code(Buffer.from([0, 0]))).toBe('TRUNCATED_FRAME');
    expect(await code(frame(4242, Buffer.from([1, 2, 3])))).toBe('UNKNOWN_SCHEMA_ID');
    expect(await code(frame(4242, Buffer.from([1, 2, 3])))).toBe('UNKNOWN_SCHEMA_ID');
    expect(calls.schemaById).toBe(1);
    expect(await code(frame(encoder.schemaId, Buffer.from([0xff, 0xff, 0xff])))).toBe('SCHEMA_MISMATCH');
    const good = encoder.encode(sampleChange);
    expect(await code(Buffer.concat([good, Buffer.from([1])]))).toBe('SCHEMA_MISMATCH');
  });

  it('lets a registry outage through as a retriable error, not a dead letter', async () => {
    const client: RegistryClient = {
      ...memoryRegistry().client,
      schemaById: async () => {
        throw new RegistryError('connection refused', { retriable: true });
      },
    };
    const decoder = createDecoder(client, type);
    await expect(decoder.decode(frame(1, Buffer.from([0])))).rejects.toMatchObject({ retriable: true });
  });

  describe('a projection decoder with asStrictAs', () => {
    // A projection of BookingChange that reads only op and ts_ms.
    const projection = avro.Type.forSchema({
      ...(JSON.parse(text) as { name: string }),
      fields: (JSON.parse(text) as { fields: { name: string }[] }).fields.filter(
        (f) => f.name === 'op' || f.name === 'ts_ms',
      ),
    } as avro.Schema);
    /** sampleChange with `after.created_at` = 2^60: avsc refuses to read it, and skips it unlooked. */
    const unsafe = (schemaId: number): Buffer => {
      const one = type.toBuffer({ ...sampleChange, after: { ...sampleChange.after, created_at: 1 } });
      const two = type.toBuffer({ ...sampleChange, after: { ...sampleChange.after, created_at: 2 } });
      const at = one.findIndex((b, i) => b !== two[i]);
      const zigzag = [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20]; // 2^61 = zigzag(2^60)
      return frame(schemaId, Buffer.concat([one.subarray(0, at), Buffer.from(zigzag), one.subarray(at + 1)]));
    };
    const codeOf = async (p: Promise<unknown>) =>
      p.then(
        () => 'decoded',
        (err: unknown) => (err instanceof DecodeError ? err.code : String(err)),
      );

    it('fails on a value exactly when the full decode does', async () => {
      const { client } = memoryRegistry();
      const encoder = await createEncoder<BookingChange>(client, 'bronze-value', text, type);
      const bad = unsafe(encoder.schemaId);
      expect(await codeOf(createDecoder(client, type).decode(bad))).toBe('SCHEMA_MISMATCH');
      expect(await codeOf(createDecoder(client, projection).decode(bad))).toBe('decoded'); // the gap
      // Twice: a second decoder must not trip over the first one's named types.
      for (let i = 0; i < 2; i++) {
        const strict = createDecoder(client, projection, { asStrictAs: type });
        expect(await codeOf(strict.decode(bad))).toBe('SCHEMA_MISMATCH');
        expect(await strict.decode(encoder.encode(sampleChange))).toEqual({
          op: sampleChange.op,
          ts_ms: sampleChange.ts_ms,
        });
        // Safe longs of every varint length (7 bytes and more take the checked path) pass.
        for (const createdAt of [0, -1, 2 ** 47, -(2 ** 48), 2 ** 52, -(2 ** 53) + 2]) {
          const after = { ...(sampleChange.after as Booking), created_at: createdAt };
          const value = encoder.encode({ ...sampleChange, after });
          expect(await codeOf(strict.decode(value))).toBe('decoded');
        }
      }
    });

    it('refuses a writer schema the full type cannot read', async () => {
      const { client } = memoryRegistry();
      // The same record without `source`, which the full reader needs (it has no default).
      const parsed = JSON.parse(text) as { fields: { name: string }[] };
      const lacking = { ...parsed, fields: parsed.fields.filter((f) => f.name !== 'source') };
      const lackingType = avro.Type.forSchema(lacking as avro.Schema);
      const id = await client.register('x', JSON.stringify(lacking));
      const value = frame(id, lackingType.toBuffer({ ...sampleChange, source: undefined }));
      expect(await codeOf(createDecoder(client, projection).decode(value))).toBe('decoded');
      const strict = createDecoder(client, projection, { asStrictAs: type });
      expect(await codeOf(strict.decode(value))).toBe('SCHEMA_MISMATCH');
    });
  });
});
