import {
  DecodeError,
  frame,
  loadSchema,
  RegistryError,
  type BookingChange,
  type EnrichedBookingChange,
  type KafkaMessage,
} from '@cdc/core';
import { bookingChanges, testSeed } from '@cdc/testing';
import { DLQ_HEADERS, ENRICH_FAILED, readDeadLetterHeaders } from '../../src/dead-letter';
import { createDeriver } from '@cdc/bookings';
import { enrichChunk, isRecordLevel, silverKey, type EnrichDeps } from '../../src/transform';

const bronzeType = loadSchema('BookingChange').type;
const silverType = loadSchema('EnrichedBookingChange').type;
const SCHEMA_ID = 7;

/** A decoder without a registry: schema id 7 is BookingChange, 8 makes the registry "down", others are unknown. */
const deps: EnrichDeps = {
  decode: (value) => {
    if (value === null || value.length < 5)
      return Promise.reject(new DecodeError('TRUNCATED_FRAME', 'short'));
    if (value[0] !== 0) return Promise.reject(new DecodeError('WRONG_MAGIC_BYTE', 'magic'));
    const id = value.readUInt32BE(1);
    if (id === 8) return Promise.reject(new RegistryError('registry down', { retriable: true }));
    if (id !== SCHEMA_ID) return Promise.reject(new DecodeError('UNKNOWN_SCHEMA_ID', `id ${id}`));
    try {
      return Promise.resolve(bronzeType.fromBuffer(value.subarray(5)) as BookingChange);
    } catch (err) {
      return Promise.reject(new DecodeError('SCHEMA_MISMATCH', (err as Error).message));
    }
  },
  deriver: createDeriver('UTC'),
  encode: (v: EnrichedBookingChange) => frame(9, silverType.toBuffer(v)),
};

let offset = 100;
const message = (value: Buffer | null, key: string | null = 'k'): KafkaMessage => ({
  key: key === null ? null : Buffer.from(key),
  value,
  offset: String(offset++),
  timestamp: '1700000000000',
  attributes: 0,
  headers: { trace: 'abc' },
});
const encode = (c: BookingChange) => frame(SCHEMA_ID, bronzeType.toBuffer(c));
const source = { topic: 'bronze', partition: 2 };

const SEED = testSeed('enricher transform');

describe('enrichChunk', () => {
  // Half the created or updated images carry a defect: some valid records, some invalid ones.
  const changes = bookingChanges(30, { seed: SEED, dirtyRatio: 0.5 });

  it('turns every good record into one silver record keyed by booking_id, in order', async () => {
    const out = await enrichChunk(
      changes.map((c) => message(encode(c))),
      source,
      deps,
      123,
    );
    expect(out.deadLetters).toEqual([]);
    expect(out.silver.map((m) => m.key?.toString())).toEqual(
      changes.map((c) => (c.after ?? c.before)!.booking_id),
    );
    const decoded = out.silver.map(
      (m) => silverType.fromBuffer((m.value as Buffer).subarray(5)) as EnrichedBookingChange,
    );
    expect(decoded).toEqual(changes.map((c) => deps.deriver.change(c, 123)));
    // A record is invalid when either image is (a delete of an invalid booking too).
    const invalid = decoded.filter(
      (d) => d.after?.is_valid_booking === false || d.before?.is_valid_booking === false,
    );
    expect(out.invalid).toBe(invalid.length);
    expect(out.invalid).toBeGreaterThan(0);
  });

  it('dead-letters undecodable bytes with the original key, value, headers and the error and source', async () => {
    const garbage = Buffer.from('{"not":"avro"}');
    const bad = message(garbage, 'B9');
    const out = await enrichChunk([message(encode(changes[0]!)), bad, message(null, null)], source, deps);
    expect(out.silver).toHaveLength(1);
    expect(out.deadLetters).toHaveLength(2);
    const [first, second] = out.deadLetters;
    expect(first!.key).toEqual(Buffer.from('B9'));
    expect(first!.value).toBe(garbage);
    expect(first!.headers?.trace).toBe('abc');
    expect(readDeadLetterHeaders(first!.headers)).toEqual({
      errorCode: 'WRONG_MAGIC_BYTE',
      errorMessage: 'magic',
      sourceTopic: 'bronze',
      sourcePartition: '2',
      sourceOffset: bad.offset,
      sourceTimestamp: '1700000000000',
    });
    expect(second!.key).toBeNull();
    expect(second!.value).toBeNull();
    expect(second!.headers?.[DLQ_HEADERS.errorCode]).toBe('TRUNCATED_FRAME');
    expect(Object.fromEntries(out.deadLetterCodes)).toEqual({ WRONG_MAGIC_BYTE: 1, TRUNCATED_FRAME: 1 });
  });

  it.each([
    ['unknown schema id', frame(99, Buffer.from([1, 2, 3])), 'UNKNOWN_SCHEMA_ID'],
    ['a body that does not match', frame(SCHEMA_ID, Buffer.from([2, 0x41])), 'SCHEMA_MISMATCH'],
  ])('dead-letters %s', async (_what, value, code) => {
    const out = await enrichChunk([message(value)], source, deps);
    expect(out.silver).toEqual([]);
    expect(readDeadLetterHeaders(out.deadLetters[0]!.headers).errorCode).toBe(code);
  });

  it('throws, dead-lettering nothing, when the registry does not answer', async () => {
    const records = [message(encode(changes[0]!)), message(frame(8, Buffer.from([0])))];
    await expect(enrichChunk(records, source, deps)).rejects.toBeInstanceOf(RegistryError);
  });

  it('dead-letters a record that decodes but cannot be encoded (a total beyond 2^53 cents)', async () => {
    const c = changes[0]!;
    const huge: BookingChange = {
      ...c,
      after: { ...c.after!, ticket_count: 2_000_000_000, ticket_price: 2 ** 50 },
    };
    const out = await enrichChunk([message(encode(huge))], source, deps);
    expect(out.silver).toEqual([]);
    expect(readDeadLetterHeaders(out.deadLetters[0]!.headers).errorCode).toBe(ENRICH_FAILED);
  });
});

describe('records near the size limit', () => {
  it('dead-letters a record whose silver record would be too large, and cuts a too-large dead letter', async () => {
    const c = bookingChanges(1, { seed: SEED })[0]!;
    const big: BookingChange = { ...c, after: { ...c.after!, customer_id: 'x'.repeat(60_000) } };
    const limited = { ...deps, maxValueBytes: 50_000 };
    const out = await enrichChunk([message(encode(big)), message(Buffer.alloc(60_000, 1))], source, limited);
    expect(out.silver).toEqual([]);
    const [tooLarge, garbage] = out.deadLetters;
    expect(readDeadLetterHeaders(tooLarge!.headers).errorCode).toBe('RECORD_TOO_LARGE');
    // The bronze record is as large as its silver one, so its dead letter is cut too, saying so.
    expect(tooLarge!.headers?.[DLQ_HEADERS.valueTruncatedFrom]).toBe(String(encode(big).length));
    expect(encode(big).subarray(0, (tooLarge!.value as Buffer).length)).toEqual(tooLarge!.value);
    expect(readDeadLetterHeaders(garbage!.headers).errorCode).toBe('WRONG_MAGIC_BYTE');
    expect(garbage!.headers?.[DLQ_HEADERS.valueTruncatedFrom]).toBe('60000');
    expect((garbage!.value as Buffer).length).toBeLessThan(50_000);
  });
});

describe('isRecordLevel', () => {
  it('dead-letters decode errors and a registry 4xx about one id, waits for anything else', () => {
    expect(isRecordLevel(new DecodeError('SCHEMA_MISMATCH', 'x'))).toBe(true);
    expect(isRecordLevel(new RegistryError('bad id', { status: 422 }))).toBe(true);
    expect(isRecordLevel(new RegistryError('down', { retriable: true }))).toBe(false);
    expect(isRecordLevel(new RegistryError('500', { status: 503, retriable: true }))).toBe(false);
    for (const status of [401, 403, 408, 429])
      expect(isRecordLevel(new RegistryError('x', { status }))).toBe(false);
    expect(isRecordLevel(new Error('socket hang up'))).toBe(false);
  });
});

describe('silverKey', () => {
  it('is the booking id of either image, else the source key', () => {
    const [c] = bookingChanges(1, { seed: SEED });
    expect(silverKey(c!, null)).toBe(c!.after!.booking_id);
    expect(silverKey({ ...c!, op: 'd', before: c!.after, after: null }, null)).toBe(c!.after!.booking_id);
    const src = Buffer.from('K');
    expect(silverKey({ ...c!, before: null, after: null }, src)).toBe(src);
  });
});
