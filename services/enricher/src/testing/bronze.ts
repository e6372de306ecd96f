import type { Kafka, Message, Producer } from 'kafkajs';
import {
  createEncoder,
  loadSchema,
  valueSubject,
  type Booking,
  type BookingChange,
  type Encoder,
  type RegistryClient,
} from '@cdc/core';

/**
 * Bronze input for tests and benchmarks, independent of the producer service: valid
 * BookingChange events (every booking goes c, u, u, … with an occasional d and re-create, its
 * version +1 each time), some with bad data on purpose (no movie, no customer, zero tickets).
 */
export interface ChangeOptions {
  /** Distinct bookings the changes cycle through (default count / 4). */
  bookings?: number;
  /** Every n-th change carries bad data (default 50; 0 = never). */
  invalidEvery?: number;
  /** Prefix of event ids, to tell runs apart (default 'e'). */
  idPrefix?: string;
  startMs?: number;
}

export function makeChanges(count: number, options: ChangeOptions = {}): BookingChange[] {
  const bookings = Math.max(1, options.bookings ?? Math.ceil(count / 4));
  const invalidEvery = options.invalidEvery ?? 50;
  const idPrefix = options.idPrefix ?? 'e';
  const start = options.startMs ?? Date.UTC(2025, 8, 3, 10, 0);
  const current = new Map<string, Booking | null>();
  const versions = new Map<string, number>();
  const changes: BookingChange[] = [];
  for (let i = 0; i < count; i++) {
    const k = i % bookings;
    const id = `B${String(k).padStart(6, '0')}`;
    const ts = start + i * 1000;
    const before = current.get(id) ?? null;
    const version = (versions.get(id) ?? 0) + 1;
    versions.set(id, version);
    const bad = invalidEvery > 0 && i % invalidEvery === invalidEvery - 1;
    let op: BookingChange['op'];
    let after: Booking | null;
    if (!before) {
      op = 'c';
      after = {
        booking_id: id,
        customer_id: bad && i % 3 === 0 ? null : `C${k % 997}`,
        movie_id: bad && i % 3 === 1 ? null : `M${String(k % 25).padStart(3, '0')}`,
        booking_date: ts - 60_000,
        status: 'BOOKED',
        ticket_count: bad && i % 3 === 2 ? 0 : 1 + (k % 6),
        ticket_price: 799 + ((k * 37) % 2000),
        created_at: ts,
        updated_at: ts,
        version,
      };
    } else if (version % 7 === 0) {
      op = 'd';
      after = null;
    } else {
      op = 'u';
      after = {
        ...before,
        status: before.status === 'BOOKED' ? 'CANCELLED' : 'BOOKED',
        ticket_count: bad ? 0 : before.ticket_count,
        updated_at: ts,
        version,
      };
    }
    current.set(id, after);
    changes.push({
      event_id: `${idPrefix}-${i}`,
      op,
      before: op === 'c' ? null : before,
      after,
      ts_ms: ts,
      source: { name: 'test', seq: i + 1 },
    });
  }
  return changes;
}

export const bookingIdOf = (c: BookingChange): string => (c.after ?? c.before)!.booking_id;

/** Registers BookingChange under the bronze subject and returns its encoder. */
export function bronzeEncoder(
  registry: RegistryClient,
  bronzeTopic: string,
): Promise<Encoder<BookingChange>> {
  const { text, type } = loadSchema('BookingChange');
  return createEncoder<BookingChange>(registry, valueSubject(bronzeTopic), text, type);
}

export const bronzeMessage = (encoder: Encoder<BookingChange>, c: BookingChange): Message => ({
  key: bookingIdOf(c),
  value: encoder.encode(c),
});

/** Writes messages to a topic in order, `perSend` at a time, with an idempotent producer. */
export async function produceAll(
  kafka: Kafka,
  topic: string,
  messages: readonly Message[],
  options: { perSend?: number; producer?: Producer } = {},
): Promise<void> {
  const producer = options.producer ?? kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  if (!options.producer) await producer.connect();
  try {
    const perSend = options.perSend ?? 2000;
    for (let i = 0; i < messages.length; i += perSend) {
      await producer.send({ topic, acks: -1, messages: messages.slice(i, i + perSend) });
    }
  } finally {
    if (!options.producer) await producer.disconnect();
  }
}
