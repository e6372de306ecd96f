import {
  createDecoder,
  DecodeError,
  loadSchema,
  readRanges,
  type BookingChange,
  type RegistryClient,
  type Admin,
  type Kafka,
} from '@cdc/core';
import type { StateStore } from './state-store';

/**
 * Loads what bronze holds per booking into a state store: every record from each partition's
 * earliest offset to its end at the time of the call, decoded, the newest version per booking
 * kept. Records that do not decode are counted and left out: they never reached silver either
 * (the enricher dead-lettered them). Costs one full read of bronze (see BENCHMARKS.md).
 */
export interface BronzeStateStats {
  records: number;
  undecodable: number;
  bookings: number;
  durationMs: number;
}

export async function loadBronzeState(o: {
  kafka: Kafka;
  admin: Admin;
  registry: RegistryClient;
  topic: string;
  groupPrefix: string;
  store: StateStore;
  onProgress?: (records: number, total: number) => void;
}): Promise<BronzeStateStats> {
  const started = Date.now();
  const offsets = await o.admin.fetchTopicOffsets(o.topic);
  const ranges = offsets.map((p) => ({ partition: p.partition, start: Number(p.low), end: Number(p.high) }));
  const total = ranges.reduce((n, r) => n + r.end - r.start, 0);
  const decoder = createDecoder<BookingChange>(o.registry, loadSchema('BookingChange').type);
  let records = 0;
  let undecodable = 0;
  await readRanges({
    kafka: o.kafka,
    admin: o.admin,
    topic: o.topic,
    ranges,
    groupPrefix: o.groupPrefix,
    maxBytesPerPartition: 8 * 1024 * 1024,
    handle: async (_partition, messages) => {
      const changes: BookingChange[] = [];
      for (const m of messages) {
        try {
          changes.push(decoder.decodeKnown(m.value) ?? (await decoder.decode(m.value)));
        } catch (err) {
          if (!(err instanceof DecodeError)) throw err; // the registry is down: fail, do not guess
          undecodable++;
        }
      }
      o.store.batch(() => {
        for (const c of changes) {
          if (c.after !== null) {
            // The image keeps its version field: the store then encodes it without a copy.
            const image = c.after;
            o.store.offer(image.booking_id, {
              version: image.version,
              deleted: false,
              inBronze: true,
              image,
            });
          } else if (c.before !== null) {
            const { version, ...image } = c.before;
            o.store.offer(image.booking_id, { version: version + 1, deleted: true, inBronze: true, image });
          }
        }
      });
      records += messages.length;
      o.onProgress?.(records, total);
    },
  });
  return { records, undecodable, bookings: o.store.size, durationMs: Date.now() - started };
}
