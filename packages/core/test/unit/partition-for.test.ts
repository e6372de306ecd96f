import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { murmur2, partitionFor } from '../../src';

const metadata = (n: number): PartitionMetadata[] =>
  Array.from({ length: n }, (_, i) => ({
    partitionId: i,
    leader: 1,
    replicas: [1],
    isr: [1],
    offlineReplicas: [],
    partitionErrorCode: 0,
  }));

describe('partitionFor', () => {
  it("picks the partition kafkajs's (Java-compatible) default partitioner picks", () => {
    const kafkajs = Partitioners.DefaultPartitioner();
    const keys = ['', 'a', 'ab', 'abc', 'abcd', 'B001', 'E005', 'ünïcødé-ключ', '🎬 movie'];
    for (let i = 0; i < 20_000; i++) keys.push(`B${String(i * 7919).padStart(6, '0')}`);
    for (const n of [1, 3, 7, 12]) {
      const partitionMetadata = metadata(n);
      const differing = keys.filter(
        (key) =>
          partitionFor(key, n) !== kafkajs({ topic: 't', partitionMetadata, message: { key, value: null } }),
      );
      expect(differing).toEqual([]);
    }
  });

  it('hashes a string and its UTF-8 bytes alike', () => {
    for (const key of ['B000123', 'ünïcødé', 'x'.repeat(37)]) {
      expect(murmur2(key)).toBe(murmur2(Buffer.from(key, 'utf8')));
    }
  });
});
