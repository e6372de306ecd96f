import {
  createEncoder,
  createIdempotentProducer,
  loadSchema,
  valueSubject,
  type BookingChange,
  type Encoder,
  type RegistryClient,
  type Kafka,
  type Message,
  type Producer,
} from '@cdc/core';
import { bookingIdOf } from './changes';

// Bronze on a real broker: the BookingChange encoder, and messages keyed as the producer keys them.

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
  const producer = options.producer ?? createIdempotentProducer(kafka);
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
