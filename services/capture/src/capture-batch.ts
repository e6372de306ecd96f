import { DLQ_HEADERS, type BookingChange, type IHeaders, type KafkaMessage, type Message } from '@cdc/core';
import { decodeDebeziumChange, UndecodableChange } from './debezium';

/** What one batch of Debezium's records becomes: bronze records, dead letters, and what was skipped. */
export interface CaptureBatch {
  bronze: Message[];
  deadLetters: Message[];
  changes: BookingChange[];
  skipped: ('truncate' | 'not-a-change')[];
}

export interface BatchSource {
  topic: string;
  partition: number;
}

/**
 * Pure: Debezium's records of one partition → the contract's records. A record that cannot be
 * decoded becomes a dead letter (the original key, value and headers, plus why and where from).
 */
export function captureBatch(
  messages: KafkaMessage[],
  from: BatchSource,
  sourceName: string,
  encode: (change: BookingChange) => Buffer,
): CaptureBatch {
  const out: CaptureBatch = { bronze: [], deadLetters: [], changes: [], skipped: [] };
  for (const m of messages) {
    let decoded;
    try {
      decoded = decodeDebeziumChange(m.value, sourceName);
    } catch (err) {
      if (!(err instanceof UndecodableChange)) throw err;
      out.deadLetters.push(deadLetter(m, from, err.message));
      continue;
    }
    if (decoded.kind === 'skip') {
      out.skipped.push(decoded.reason);
      continue;
    }
    const change = decoded.change;
    out.changes.push(change);
    out.bronze.push({ key: (change.after ?? change.before)!.booking_id, value: encode(change) });
  }
  return out;
}

function deadLetter(m: KafkaMessage, from: BatchSource, message: string): Message {
  const headers: IHeaders = {
    ...(m.headers ?? {}),
    [DLQ_HEADERS.errorCode]: 'SCHEMA_MISMATCH',
    [DLQ_HEADERS.errorMessage]: `capture: ${message}`,
    [DLQ_HEADERS.sourceTopic]: from.topic,
    [DLQ_HEADERS.sourcePartition]: String(from.partition),
    [DLQ_HEADERS.sourceOffset]: m.offset,
    [DLQ_HEADERS.sourceTimestamp]: m.timestamp,
  };
  return { key: m.key, value: m.value, headers };
}
