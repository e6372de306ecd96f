import {
  createDecoder,
  DecodeError,
  loadSchema,
  readRanges,
  type BackfillPartition,
  type BookingChange,
  type RegistryClient,
  type Admin,
  type Kafka,
} from '@cdc/core';

/**
 * What a backfill's plan says about its range, read from bronze (the dry run reads, it does not
 * estimate): per partition the records and the first and last event time (`ts_ms`) in the
 * range, and how many bookings last changed before the range — their newest change is not
 * re-derived, so they keep their old derivation. Bronze is keyed by booking_id; the count reads
 * the keys from each partition's earliest offset to the end.
 */
export interface PartitionStats extends BackfillPartition {
  records: number;
  firstEventMs: number | null;
  lastEventMs: number | null;
  /** Records that do not decode (dead-lettered again by the backfill). */
  undecodable: number;
}

export interface RangeStats {
  partitions: PartitionStats[];
  bookingsInRange: number;
  bookingsBefore: number;
}

export async function inspectRange(o: {
  kafka: Kafka;
  admin: Admin;
  registry: RegistryClient;
  topic: string;
  /** The ranges, and each partition's earliest offset. */
  ranges: (BackfillPartition & { earliest: number })[];
  groupPrefix: string;
}): Promise<RangeStats> {
  const decoder = createDecoder<BookingChange>(o.registry, loadSchema('BookingChange').type);
  const stats = new Map<number, PartitionStats>(
    o.ranges.map((r) => [
      r.partition,
      {
        partition: r.partition,
        start: r.start,
        end: r.end,
        records: 0,
        firstEventMs: null,
        lastEventMs: null,
        undecodable: 0,
      },
    ]),
  );
  const starts = new Map(o.ranges.map((r) => [r.partition, r.start]));
  const inRange = new Set<string>();
  const before = new Set<string>();
  await readRanges({
    kafka: o.kafka,
    admin: o.admin,
    topic: o.topic,
    groupPrefix: o.groupPrefix,
    ranges: o.ranges.map((r) => ({ partition: r.partition, start: r.earliest, end: r.end })),
    handle: async (partition, messages) => {
      const s = stats.get(partition)!;
      const start = starts.get(partition) ?? 0;
      for (const m of messages) {
        const key = m.key?.toString();
        if (Number(m.offset) < start) {
          if (key !== undefined) before.add(key);
          continue;
        }
        if (key !== undefined) inRange.add(key);
        s.records += 1;
        let change: BookingChange | undefined;
        try {
          change = decoder.decodeKnown(m.value) ?? (await decoder.decode(m.value));
        } catch (err) {
          if (!(err instanceof DecodeError)) throw err;
          s.undecodable += 1;
          continue;
        }
        s.firstEventMs = s.firstEventMs === null ? change.ts_ms : Math.min(s.firstEventMs, change.ts_ms);
        s.lastEventMs = s.lastEventMs === null ? change.ts_ms : Math.max(s.lastEventMs, change.ts_ms);
      }
    },
  });
  let bookingsBefore = 0;
  for (const key of before) if (!inRange.has(key)) bookingsBefore += 1;
  return {
    partitions: [...stats.values()].sort((a, b) => a.partition - b.partition),
    bookingsInRange: inRange.size,
    bookingsBefore,
  };
}
