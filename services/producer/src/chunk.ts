import type avro from 'avsc';
import { HEADER_BYTES, MAGIC_BYTE } from '@cdc/core';

/**
 * A batch of Kafka records built in one transferable buffer, so it can be handed to a lane's
 * worker thread without copying: for each record its key (UTF-8), then its value in the
 * Confluent wire format (magic byte, schema id, Avro body, written straight into the buffer).
 * `bounds` holds, per record, [key end, value end, partition]; a record starts where the
 * previous one ends.
 */
export interface Chunk {
  buffer: ArrayBuffer;
  bounds: Int32Array;
  count: number;
  /** Records per kind of change (index into CHANGE_KINDS). */
  byKind: number[];
}

export interface ChunkBuilder {
  readonly count: number;
  add(key: string, value: unknown, partition: number, kind: number): void;
  /** The chunk so far (the builder starts a new one). */
  take(): Chunk;
}

export function createChunkBuilder(options: {
  schemaId: number;
  type: avro.Type;
  capacity: number;
  kinds: number;
}): ChunkBuilder {
  const { schemaId, type, capacity } = options;
  let bytesPerRecord = 192;
  let buf = Buffer.allocUnsafeSlow(capacity * bytesPerRecord);
  let bounds = new Int32Array(capacity * 3);
  let byKind = new Array<number>(options.kinds).fill(0);
  let count = 0;
  let pos = 0;

  /** Grows the buffer to hold `need` more bytes after `used`, keeping bytes [0, used). */
  const grow = (used: number, need: number): void => {
    const next = Buffer.allocUnsafeSlow(Math.max(buf.length * 2, used + need));
    buf.copy(next, 0, 0, used);
    buf = next;
  };

  return {
    get count() {
      return count;
    },
    add(key, value, partition, kind) {
      if (count * 3 >= bounds.length) {
        const more = new Int32Array(bounds.length * 2);
        more.set(bounds);
        bounds = more;
      }
      // UTF-8 takes at most 3 bytes per UTF-16 unit: the key always fits after this.
      if (pos + key.length * 3 + HEADER_BYTES > buf.length) grow(pos, key.length * 3 + HEADER_BYTES + 4096);
      const keyEnd = pos + buf.write(key, pos, 'utf8');
      let end = type.encode(value, buf, keyEnd + HEADER_BYTES);
      while (end < 0) {
        grow(keyEnd, HEADER_BYTES - end + 4096); // avsc answers how many bytes were missing
        end = type.encode(value, buf, keyEnd + HEADER_BYTES);
      }
      buf[keyEnd] = MAGIC_BYTE;
      buf.writeUInt32BE(schemaId, keyEnd + 1);
      bounds[count * 3] = keyEnd;
      bounds[count * 3 + 1] = end;
      bounds[count * 3 + 2] = partition;
      byKind[kind]!++;
      count++;
      pos = end;
    },
    take() {
      const chunk: Chunk = { buffer: buf.buffer, bounds, count, byKind };
      // Records average out; size the next buffer for a full chunk of them.
      if (count > 0) bytesPerRecord = Math.max(64, Math.ceil((pos / count) * 1.25));
      buf = Buffer.allocUnsafeSlow(capacity * bytesPerRecord);
      bounds = new Int32Array(capacity * 3);
      byKind = new Array<number>(byKind.length).fill(0);
      count = 0;
      pos = 0;
      return chunk;
    },
  };
}

/** The records of a chunk as [key, value, partition] views of its buffer (no copies). */
export function readChunk(
  chunk: Pick<Chunk, 'buffer' | 'bounds' | 'count'>,
): { key: Buffer; value: Buffer; partition: number }[] {
  const buf = Buffer.from(chunk.buffer);
  const out = new Array<{ key: Buffer; value: Buffer; partition: number }>(chunk.count);
  let start = 0;
  for (let i = 0; i < chunk.count; i++) {
    const keyEnd = chunk.bounds[i * 3]!;
    const end = chunk.bounds[i * 3 + 1]!;
    out[i] = {
      key: buf.subarray(start, keyEnd),
      value: buf.subarray(keyEnd, end),
      partition: chunk.bounds[i * 3 + 2]!,
    };
    start = end;
  }
  return out;
}
