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
  if (kafkaAccessError(err) !== undefined) return false;
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

/**
 * Access failures: the broker answers but refuses this client (wrong credentials, an untrusted
 * certificate, a missing ACL). Waiting does not fix them, so they must never be taken for an
 * outage and retried: each maps, here and only here, to one CdcError naming what to fix —
 * CONFIG_INVALID (exit 2) for credentials and certificates, an ACL error naming the ACL.
 */
const ACL_TYPES: Readonly<Record<string, { resource: string; hint: string }>> = {
  TOPIC_AUTHORIZATION_FAILED: { resource: 'TOPIC', hint: 'the topic ACLs' },
  GROUP_AUTHORIZATION_FAILED: { resource: 'GROUP', hint: 'the consumer group ACL (READ)' },
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: {
    resource: 'TRANSACTIONAL_ID',
    hint: 'the transactional id ACLs (WRITE, DESCRIBE)',
  },
  CLUSTER_AUTHORIZATION_FAILED: {
    resource: 'CLUSTER',
    hint: 'the cluster ACL (IDEMPOTENT_WRITE for producers, DESCRIBE_CONFIGS/ALTER_CONFIGS/CREATE for setup)',
  },
  DELEGATION_TOKEN_AUTHORIZATION_FAILED: { resource: 'DELEGATION_TOKEN', hint: 'the delegation token ACL' },
};

/** Node's TLS verification errors (the broker's certificate is not trusted). */
const UNTRUSTED_CERT =
  /SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT|CERT_HAS_EXPIRED|CERT_NOT_YET_VALID|ERR_TLS_CERT_ALTNAME_INVALID|self[- ]signed certificate|unable to verify the first certificate|unable to get local issuer certificate/i;
/** A TLS client talking to a listener that does not speak TLS. */
const NOT_TLS =
  /ERR_SSL_WRONG_VERSION_NUMBER|wrong version number|packet length too long|ERR_SSL_PACKET_LENGTH_TOO_LONG/i;

const describeChain = (err: unknown): { names: string[]; text: string } => {
  const names: string[] = [];
  const parts: string[] = [];
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const o = e as { name?: unknown; message?: unknown; code?: unknown; type?: unknown; cause?: unknown };
    if (typeof o.name === 'string') names.push(o.name);
    parts.push([o.message, o.code, o.type].filter((x) => typeof x === 'string').join(' '));
    e = o.cause;
  }
  return { names, text: parts.join(' | ') };
};

/** The CdcError an access failure means, or undefined when `err` is not one. Looks through causes. */
export function kafkaAccessError(err: unknown): CdcError | undefined {
  const { names, text } = describeChain(err);
  if (
    names.includes('KafkaJSSASLAuthenticationError') ||
    /SASL_AUTHENTICATION_FAILED|ILLEGAL_SASL_STATE/.test(text)
  ) {
    return new CdcError(
      'CONFIG_INVALID',
      'Kafka refused the SASL login: check KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD (or KAFKA_SASL_PASSWORD_FILE) ' +
        `and KAFKA_SASL_MECHANISM (${firstLine(text)})`,
      { cause: err },
    );
  }
  if (/UNSUPPORTED_SASL_MECHANISM/.test(text)) {
    return new CdcError(
      'CONFIG_INVALID',
      `the broker does not offer this SASL mechanism: set KAFKA_SASL_MECHANISM to one it enables (${firstLine(text)})`,
      { cause: err },
    );
  }
  if (UNTRUSTED_CERT.test(text)) {
    return new CdcError(
      'CONFIG_INVALID',
      "the broker's TLS certificate is not trusted: set KAFKA_SSL_CA_FILE to the CA that signed it " +
        `(${firstLine(text)})`,
      { cause: err },
    );
  }
  if (NOT_TLS.test(text)) {
    return new CdcError(
      'CONFIG_INVALID',
      'the broker does not speak TLS on this port: check KAFKA_BROKERS and KAFKA_SECURITY_PROTOCOL ' +
        `(PLAINTEXT or SASL_PLAINTEXT for a listener without TLS) (${firstLine(text)})`,
      { cause: err },
    );
  }
  const type = Object.keys(ACL_TYPES).find((t) => text.includes(t));
  if (type !== undefined) return aclError(type, err);
  return undefined;
}

function aclError(type: string, err: unknown): CdcError {
  const acl = ACL_TYPES[type]!;
  return new CdcError(
    'CONFIG_INVALID',
    `Kafka denied this principal access (${type}): it lacks an ACL on a ${acl.resource} resource; ` +
      `grant ${acl.hint} (\`cdc acls --principal User:<name>\` prints what each service needs)`,
    { cause: err },
  );
}

const firstLine = (text: string) => text.split('\n')[0]!.slice(0, 300);
