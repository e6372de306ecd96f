import { DecodeError } from '../errors';

/**
 * The Confluent wire format, explained once:
 *
 *   byte 0      magic byte, always 0
 *   bytes 1-4   schema id, big-endian unsigned 32-bit, as assigned by the schema registry
 *   bytes 5-    the Avro binary encoding of the value, written with that schema
 *
 * Kafka keys are plain UTF-8 strings (booking_id, movie_id); only values use this frame.
 */
export const MAGIC_BYTE = 0;
export const HEADER_BYTES = 5;

export function frame(schemaId: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(HEADER_BYTES + body.length);
  out.writeUInt8(MAGIC_BYTE, 0);
  out.writeUInt32BE(schemaId, 1);
  body.copy(out, HEADER_BYTES);
  return out;
}

export interface Unframed {
  schemaId: number;
  body: Buffer;
}

/** Splits a framed value; throws DecodeError for anything that is not a Confluent frame. */
export function unframe(value: Buffer | null): Unframed {
  if (value === null || value.length < HEADER_BYTES) {
    throw new DecodeError(
      'TRUNCATED_FRAME',
      `value has ${value === null ? 'no' : value.length} bytes; a Confluent frame needs at least ${HEADER_BYTES}`,
    );
  }
  const magic = value.readUInt8(0);
  if (magic !== MAGIC_BYTE) {
    throw new DecodeError('WRONG_MAGIC_BYTE', `magic byte is ${magic}, expected ${MAGIC_BYTE}`);
  }
  return { schemaId: value.readUInt32BE(1), body: value.subarray(HEADER_BYTES) };
}
