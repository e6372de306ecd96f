import type { IHeaders, KafkaMessage, Message } from 'kafkajs';
import { CdcError, errorMessage } from '@cdc/core';

/**
 * A dead letter is the original record (key, value and headers, byte for byte) plus headers
 * that say why it could not be enriched and where it came from. Header values are UTF-8 text.
 */
export const DLQ_HEADERS = {
  errorCode: 'dlq.error.code',
  errorMessage: 'dlq.error.message',
  sourceTopic: 'dlq.source.topic',
  sourcePartition: 'dlq.source.partition',
  sourceOffset: 'dlq.source.offset',
  sourceTimestamp: 'dlq.source.timestamp',
} as const;

/** Code for a record that decoded but could not be enriched or encoded (e.g. a total beyond 2^53 cents). */
export const ENRICH_FAILED = 'ENRICH_FAILED';

const MAX_MESSAGE_CHARS = 1000;

export interface SourcePosition {
  topic: string;
  partition: number;
}

export function errorCode(err: unknown): string {
  return err instanceof CdcError ? err.code : ENRICH_FAILED;
}

export function deadLetter(message: KafkaMessage, source: SourcePosition, err: unknown): Message {
  const headers: IHeaders = { ...(message.headers ?? {}) };
  headers[DLQ_HEADERS.errorCode] = errorCode(err);
  headers[DLQ_HEADERS.errorMessage] = errorMessage(err).slice(0, MAX_MESSAGE_CHARS);
  headers[DLQ_HEADERS.sourceTopic] = source.topic;
  headers[DLQ_HEADERS.sourcePartition] = String(source.partition);
  headers[DLQ_HEADERS.sourceOffset] = message.offset;
  headers[DLQ_HEADERS.sourceTimestamp] = message.timestamp;
  return { key: message.key, value: message.value, headers };
}

/** Reads a dead letter's headers back (for tests and tools). */
export function readDeadLetterHeaders(
  headers: IHeaders | undefined,
): Record<keyof typeof DLQ_HEADERS, string> {
  const text = (name: string): string => {
    const v = headers?.[name];
    const one = Array.isArray(v) ? v[0] : v;
    return one === undefined ? '' : one.toString();
  };
  return {
    errorCode: text(DLQ_HEADERS.errorCode),
    errorMessage: text(DLQ_HEADERS.errorMessage),
    sourceTopic: text(DLQ_HEADERS.sourceTopic),
    sourcePartition: text(DLQ_HEADERS.sourcePartition),
    sourceOffset: text(DLQ_HEADERS.sourceOffset),
    sourceTimestamp: text(DLQ_HEADERS.sourceTimestamp),
  };
}
