import type avro from 'avsc';
import { HEADER_BYTES, MAGIC_BYTE, type Encoder } from '@cdc/core';

/**
 * A faster twin of core's encoder (same Confluent frame: magic byte, schema id, Avro body):
 * values are written straight into a large slab and handed out as views of it, instead of one
 * allocation and one copy per value. A slab lives as long as any of its values is referenced
 * (until Kafka acknowledges them), then goes with the garbage. The schema id comes from core's
 * createEncoder, which registers the schema.
 */
const SLAB_BYTES = 1 << 20;

export function createSlabEncoder<T>(registered: Encoder<T>, type: avro.Type): Encoder<T> {
  const schemaId = registered.schemaId;
  let slab = Buffer.allocUnsafe(SLAB_BYTES);
  let pos = 0;
  return {
    schemaId,
    encode(value: T): Buffer {
      for (let attempt = 0; attempt < 2; attempt++) {
        if (slab.length - pos > HEADER_BYTES) {
          const end = type.encode(value, slab, pos + HEADER_BYTES);
          if (end > 0) {
            slab[pos] = MAGIC_BYTE;
            slab.writeUInt32BE(schemaId, pos + 1);
            const out = slab.subarray(pos, end);
            pos = end;
            return out;
          }
        }
        slab = Buffer.allocUnsafe(SLAB_BYTES);
        pos = 0;
      }
      return registered.encode(value); // larger than a slab
    },
  };
}
