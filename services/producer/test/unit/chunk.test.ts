import { HEADER_BYTES, loadSchema, unframe, type BookingChange } from '@cdc/core';
import { createChunkBuilder, readChunk } from '../../src/chunk';
import { createGenerator, DEFAULT_GENERATOR } from '@cdc/bookings';

describe('chunks', () => {
  const { type } = loadSchema('BookingChange');

  it('hold keys and Confluent-framed Avro values that read back as written', () => {
    const gen = createGenerator({ ...DEFAULT_GENERATOR, runId: 'r', bookingDateFromMs: 0 });
    // A small starting capacity forces the buffer and the bounds to grow.
    const builder = createChunkBuilder({ schemaId: 77, type, capacity: 4, kinds: 4 });
    const written: { key: string; change: BookingChange; partition: number }[] = [];
    for (let i = 0; i < 500; i++) {
      const { change, kind } = gen.next(1_000_000 + i);
      const key = i === 3 ? 'ünïcødé-Ключ' : (change.after ?? change.before)!.booking_id;
      written.push({ key, change, partition: i % 3 });
      builder.add(key, change, i % 3, ['create', 'cancel', 'update', 'delete'].indexOf(kind));
    }
    const chunk = builder.take();
    expect(builder.count).toBe(0);
    expect(chunk.count).toBe(500);
    expect(chunk.byKind.reduce((a, b) => a + b, 0)).toBe(500);
    const records = readChunk(chunk);
    records.forEach((r, i) => {
      expect(r.key.toString('utf8')).toBe(written[i]!.key);
      expect(r.partition).toBe(written[i]!.partition);
      const { schemaId, body } = unframe(r.value);
      expect(schemaId).toBe(77);
      expect(type.fromBuffer(body)).toEqual(written[i]!.change);
    });
    expect(records[0]!.value.length).toBeGreaterThan(HEADER_BYTES);
  });

  it('starts each chunk in a fresh buffer that can be transferred', () => {
    const builder = createChunkBuilder({ schemaId: 1, type, capacity: 10, kinds: 4 });
    const gen = createGenerator({ ...DEFAULT_GENERATOR, runId: 'r', bookingDateFromMs: 0 });
    builder.add('B1', gen.next(1).change, 0, 0);
    const a = builder.take();
    builder.add('B2', gen.next(2).change, 0, 0);
    const b = builder.take();
    expect(a.buffer).not.toBe(b.buffer);
    expect(readChunk(b)[0]!.key.toString()).toBe('B2');
  });
});
