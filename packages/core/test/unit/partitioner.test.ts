import type { PartitionMetadata } from 'kafkajs';
import { seededRandom, testSeed } from '@cdc/testing';
import { KeyPartitioner, murmur2 } from '../../src';

// kafkajs's own (Long-based) implementation, the reference.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a kafkajs internal without types
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2') as (
  key: Buffer,
) => number;

describe('murmur2 partitioning', () => {
  it('equals kafkajs (and so the Java client) for keys of every length', () => {
    const random = seededRandom(testSeed('murmur2 keys'));
    for (let length = 0; length < 64; length++) {
      for (let i = 0; i < 50; i++) {
        const key = random.bytes(length);
        expect(murmur2(key)).toBe(kafkajsMurmur2(key));
      }
    }
    for (const s of ['B000001', 'booking-42', 'ü-ñ-€', ''])
      expect(murmur2(Buffer.from(s))).toBe(kafkajsMurmur2(Buffer.from(s)));
  });

  it('matches the Java client on known values', () => {
    // org.apache.kafka.common.utils.Utils.murmur2("21".getBytes()) == -973932308
    expect(murmur2(Buffer.from('21'))).toBe(-973932308);
  });

  it('picks the partition of the key, an explicit partition, or round-robin without a key', () => {
    const metadata = [0, 1, 2].map((p) => ({ partitionId: p, leader: 1 }) as PartitionMetadata);
    const partition = KeyPartitioner();
    const of = (message: { key?: string | Buffer | null; partition?: number }) =>
      partition({ topic: 't', partitionMetadata: metadata, message: { value: null, ...message } });
    expect(of({ key: 'B000001' })).toBe((kafkajsMurmur2(Buffer.from('B000001')) & 0x7fffffff) % 3);
    expect(of({ key: Buffer.from('B000001') })).toBe(of({ key: 'B000001' }));
    expect(of({ key: 'x', partition: 2 })).toBe(2);
    const spread = new Set([0, 1, 2, 3, 4, 5].map(() => of({ key: null })));
    expect(spread.size).toBe(3);
  });
});
