import {
  DecodeError,
  DLQ_HEADERS,
  errorMessage,
  RegistryError,
  type DeadLetterReason,
  type IHeaders,
  type KafkaMessage,
  type Message,
} from '@cdc/core';

/** The dead letters' headers are defined in @cdc/core, beside the code that reads them back. */
export { DLQ_HEADERS };

/** Code for a record that decoded but could not be enriched or encoded (e.g. a total beyond 2^53 cents). */
export const ENRICH_FAILED = 'ENRICH_FAILED';
/** Code for a record whose silver record would be larger than the broker accepts. */
export const RECORD_TOO_LARGE = 'RECORD_TOO_LARGE' satisfies DeadLetterReason;
/** Code for a record whose schema id the registry refused with a 4xx other than "not found". */
export const REGISTRY_ERROR = 'REGISTRY_ERROR';

const MAX_MESSAGE_CHARS = 1000;

export interface SourcePosition {
  topic: string;
  partition: number;
}

/**
 * The dead letter's `dlq.error.code`: the contract's reasons (docs/contract.md), finer than the
 * kinds of CdcError codes. A registry that refused the record's schema id keeps the reason it has
 * always had (REGISTRY_ERROR, or SCHEMA_INCOMPATIBLE for a 409), whatever its kind.
 */
export function errorCode(err: unknown): string {
  if (err instanceof DecodeError) return err.code;
  if (err instanceof RegistryError) return err.code === 'SCHEMA_INCOMPATIBLE' ? err.code : REGISTRY_ERROR;
  const code = (err as { code?: unknown } | null)?.code;
  return code === RECORD_TOO_LARGE ? RECORD_TOO_LARGE : ENRICH_FAILED;
}

/**
 * The dead letter of a record. A value longer than `maxValueBytes` (which only a record close to
 * the broker's size limit can have: the headers must fit too) is cut, and the original length
 * recorded, rather than letting a dead letter the broker refuses stall the partition.
 */
export function deadLetter(
  message: KafkaMessage,
  source: SourcePosition,
  err: unknown,
  maxValueBytes = Number.POSITIVE_INFINITY,
): Message {
  const headers: IHeaders = { ...(message.headers ?? {}) };
  let value = message.value;
  if (value !== null && value.length > maxValueBytes) {
    headers[DLQ_HEADERS.valueTruncatedFrom] = String(value.length);
    value = value.subarray(0, maxValueBytes);
  }
  headers[DLQ_HEADERS.errorCode] = errorCode(err);
  headers[DLQ_HEADERS.errorMessage] = errorMessage(err).slice(0, MAX_MESSAGE_CHARS);
  headers[DLQ_HEADERS.sourceTopic] = source.topic;
  headers[DLQ_HEADERS.sourcePartition] = String(source.partition);
  headers[DLQ_HEADERS.sourceOffset] = message.offset;
  headers[DLQ_HEADERS.sourceTimestamp] = message.timestamp;
  return { key: message.key, value, headers };
}

/** Reads a dead letter's headers back (for tests and tools). */
export function readDeadLetterHeaders(
  headers: IHeaders | undefined,
): Record<Exclude<keyof typeof DLQ_HEADERS, 'valueTruncatedFrom'>, string> {
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
