import { CdcError } from '../errors';

/**
 * What a kafkajs error means for the pipeline. kafkajs exports no classes for most of its errors
 * and reports the broker's protocol errors by `type`, so they are told apart here by name and
 * type, once; callers ask these questions instead of testing kafkajs's errors themselves.
 */

/** kafkajs errors that mean "no answer from the broker". */
const NO_ANSWER_NAMES = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSNumberOfRetriesExceeded',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSGroupCoordinatorNotFound',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSLockTimeout',
]);

/** Broker protocol errors that are part of a broker (re)starting or moving leadership. */
const BROKER_MOVING_TYPES = new Set([
  'COORDINATOR_NOT_AVAILABLE',
  'COORDINATOR_LOAD_IN_PROGRESS',
  'NOT_COORDINATOR',
  'NOT_COORDINATOR_FOR_GROUP',
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_FOR_PARTITION',
  'NOT_LEADER_OR_FOLLOWER',
  'REQUEST_TIMED_OUT',
  'NETWORK_EXCEPTION',
  'NOT_ENOUGH_REPLICAS',
  'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
  'BROKER_NOT_AVAILABLE',
  'KAFKA_STORAGE_ERROR',
]);

/** Group errors a heartbeat answers while the group rebalances, or after this member left it. */
const REBALANCE_TYPES = new Set([
  'REBALANCE_IN_PROGRESS',
  'UNKNOWN_MEMBER_ID',
  'ILLEGAL_GENERATION',
  'FENCED_INSTANCE_ID',
]);

/** The broker's protocol error name of a kafkajs error (`CONCURRENT_TRANSACTIONS`, …), if any. */
export function kafkaErrorType(err: unknown): string | undefined {
  const type = (err as { type?: unknown } | null)?.type;
  return typeof type === 'string' ? type : undefined;
}

/**
 * True when this error itself (not its causes) says the broker does not answer: a kafkajs
 * connection, timeout or no-broker error, or a protocol error of a broker (re)starting.
 */
export function isBrokerOutage(err: unknown): boolean {
  const name = (err as { name?: unknown } | null)?.name;
  if (typeof name === 'string' && NO_ANSWER_NAMES.has(name)) return true;
  const type = kafkaErrorType(err);
  return type !== undefined && BROKER_MOVING_TYPES.has(type);
}

/** kafkajs marks the errors it would retry (the broker may answer differently soon). */
export const isRetriable = (err: unknown): boolean =>
  (err as { retriable?: unknown } | null)?.retriable === true;

/** kafkajs gave up after its own retries (the broker may well answer again later). */
export const isRetriesExhausted = (err: unknown): boolean =>
  err instanceof Error && err.name === 'KafkaJSNumberOfRetriesExceeded';

/** A heartbeat failed because the group rebalances (or this member is no longer in it). */
export function isRebalance(err: unknown): boolean {
  const type = kafkaErrorType(err);
  return type !== undefined && REBALANCE_TYPES.has(type);
}

/** Another process joined the group with this member's static instance id. */
export const isFencedInstance = (err: unknown): boolean => kafkaErrorType(err) === 'FENCED_INSTANCE_ID';

/** The error a consumer fenced by another process with its instance id stops with. */
export function fencedInstanceError(groupId: string, instanceId: string, cause: unknown): CdcError {
  return new CdcError(
    'CONFLICT',
    `consumer: another process joined group ${groupId} with this instance's id (${instanceId}); ` +
      'every running instance needs its own instance id',
    { cause },
  );
}
