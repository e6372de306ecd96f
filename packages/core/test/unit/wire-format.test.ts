import { DecodeError, frame, unframe } from '../../src';

describe('Confluent wire format', () => {
  it('frames a body behind magic byte 0 and a big-endian schema id', () => {
    const framed = frame(0x01020304, Buffer.from([9, 8, 7]));
    expect([...framed]).toEqual([0, 1, 2, 3, 4, 9, 8, 7]);
    expect(unframe(framed)).toEqual({ schemaId: 0x01020304, body: Buffer.from([9, 8, 7]) });
  });

  it.each([
    ['null', null, 'TRUNCATED_FRAME'],
    ['4 bytes', Buffer.from([0, 0, 0, 1]), 'TRUNCATED_FRAME'],
    ['magic byte 1', Buffer.from([1, 0, 0, 0, 1, 2]), 'WRONG_MAGIC_BYTE'],
  ])('rejects %s', (_label, value, code) => {
    expect(() => unframe(value)).toThrow(DecodeError);
    try {
      unframe(value);
    } catch (err) {
      expect((err as DecodeError).code).toBe(code);
      expect((err as DecodeError).retriable).toBe(false);
    }
  });
});
