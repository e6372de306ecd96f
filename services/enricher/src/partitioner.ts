import type { ICustomPartitioner } from 'kafkajs';

/**
 * Kafka's default key partitioning (Java client: murmur2(key) & 0x7fffffff mod partitions), the
 * same partitions as kafkajs's DefaultPartitioner, but with 32-bit integer arithmetic: kafkajs's
 * murmur2 works on Long objects and costs a few microseconds per record, a large share of the
 * enricher's time at tens of thousands of records per second.
 */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  const m = 0x5bd1e995;
  let h = 0x9747b28c ^ length;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = data[i4]! | (data[i4 + 1]! << 8) | (data[i4 + 2]! << 16) | (data[i4 + 3]! << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const tail = length & ~3;
  const rest = length & 3;
  if (rest === 3) h ^= data[tail + 2]! << 16;
  if (rest >= 2) h ^= data[tail + 1]! << 8;
  if (rest >= 1) {
    h ^= data[tail]!;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition of a key among `partitions`, as Kafka's default partitioner computes it. */
export const keyPartition = (key: Uint8Array, partitions: number): number =>
  (murmur2(key) & 0x7fffffff) % partitions;

/** kafkajs partitioner: an explicit partition wins, a key is hashed, no key goes round-robin. */
export const KeyPartitioner: ICustomPartitioner = () => {
  let counter = Math.floor(Math.random() * 0x7fffffff);
  return ({ partitionMetadata, message }) => {
    if (message.partition !== null && message.partition !== undefined) return message.partition;
    const n = partitionMetadata.length;
    const key = message.key;
    if (key !== null && key !== undefined)
      return keyPartition(typeof key === 'string' ? Buffer.from(key) : key, n);
    const available = partitionMetadata.filter((p) => p.leader >= 0);
    counter = (counter + 1) & 0x7fffffff;
    return available.length > 0 ? available[counter % available.length]!.partitionId : counter % n;
  };
};
