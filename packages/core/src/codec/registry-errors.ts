import { CdcError, DecodeError, RegistryError, errorMessage } from '../errors';

/**
 * The one place where the schema registry library's errors become ours. The difference matters
 * more than anything else the registry does for us: "the registry is down" makes a stage wait and
 * retry (RegistryError, retriable), "this schema id does not exist" sends one record to the dead
 * letters (DecodeError, final). The library (@kafkajs/confluent-schema-registry on mappersmith)
 * reports both as a `ResponseError` with a status, and reports a connection that failed or timed
 * out as a *400* with no registry answer, so a plain `status >= 500` test would dead-letter
 * records whenever the registry is unreachable. This module tells them apart.
 */

/** The operation that failed: the same status means different things to each. */
export type RegistryOperation =
  'register' | 'schemaById' | 'setCompatibility' | 'checkCompatibility' | 'subjects';

/** Our client id for the library: its error messages start with `${REGISTRY_CLIENT_ID} - `. */
export const REGISTRY_CLIENT_ID = 'cdc';

/** What the library's ResponseError tells us, parsed. */
export interface RegistryFailure {
  status: number;
  /** The registry's own error message; undefined when no registry answered (see `registryAnswered`). */
  registryMessage: string | undefined;
  /** The failure as the library words it (a socket error, a timeout, a status with no body). */
  detail: string;
}

/**
 * Parses the library's ResponseError (`{ name: 'ResponseError', status, message }`). Its message is
 * `<clientId> - <the registry's "message">` when the registry answered with its JSON error body
 * (`{"error_code": 40403, "message": ...}`), and `<clientId> - Error, status <n>[: <text>]` when
 * it did not: mappersmith's own status 400 for a refused, reset or timed-out connection, or a
 * status without a registry body (a proxy, a wrong URL).
 */
export function parseRegistryFailure(err: unknown): RegistryFailure | undefined {
  if (!(err instanceof Error) || err.name !== 'ResponseError') return undefined;
  const status = (err as { status?: unknown }).status;
  if (typeof status !== 'number') return undefined;
  const prefix = `${REGISTRY_CLIENT_ID} - `;
  const text = err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message;
  const bare = /^Error, status \d+(?:: ([\s\S]*))?$/.exec(text);
  return bare
    ? { status, registryMessage: undefined, detail: bare[1] ?? `status ${status}` }
    : { status, registryMessage: text, detail: text };
}

/** Whether the registry itself answered 404 (no such subject, version or schema id: 404xx). */
export function isRegistryNotFound(err: unknown): boolean {
  const failure = parseRegistryFailure(err);
  return failure?.status === 404 && failure.registryMessage !== undefined;
}

/** Statuses that mean "not now" (overloaded, timed out) rather than "never". */
const TRANSIENT_STATUSES = new Set([408, 429]);

/**
 * Maps any error from a registry call to a CdcError:
 *  - no answer (connection refused or reset, DNS, timeout), 5xx, 408, 429 → RegistryError,
 *    UNAVAILABLE, retriable: the caller waits and retries;
 *  - `schemaById` answered 404 by the registry (error code 40403) → DecodeError UNKNOWN_SCHEMA_ID,
 *    final: the record is dead-lettered;
 *  - `schemaById` of a schema the library cannot parse → DecodeError SCHEMA_MISMATCH, final;
 *  - 409 → RegistryError SCHEMA_INCOMPATIBLE;
 *  - any other answer (4xx) → RegistryError DEPENDENCY_FAILED, final, with its status; a status
 *    without a registry body (a wrong URL) keeps no status, so no record is blamed for it.
 */
export function toCdcError(err: unknown, op: RegistryOperation, what: string, baseUrl: string): CdcError {
  if (err instanceof CdcError) return err;
  const failure = parseRegistryFailure(err);
  if (failure === undefined) {
    // The library's own checks (ConfluentSchemaRegistryArgumentError): the schema text it got is
    // not a usable Avro schema.
    if (op === 'schemaById' && err instanceof Error && err.name.startsWith('ConfluentSchemaRegistry')) {
      return new DecodeError(
        'SCHEMA_MISMATCH',
        `${what}: the registry's schema is unusable: ${err.message}`,
        err,
      );
    }
    return new RegistryError(`schema registry at ${baseUrl}, ${what}: ${errorMessage(err)}`, { cause: err });
  }
  const { status, registryMessage, detail } = failure;
  const unanswered = registryMessage === undefined && status === 400;
  if (unanswered || status >= 500 || TRANSIENT_STATUSES.has(status)) {
    return new RegistryError(`schema registry at ${baseUrl} did not answer ${what}: ${detail}`, {
      status: unanswered ? undefined : status,
      retriable: true,
      cause: err,
    });
  }
  if (registryMessage === undefined) {
    return new RegistryError(
      `schema registry at ${baseUrl} answered ${what} with status ${status} and no registry error: ` +
        'is SCHEMA_REGISTRY_URL the Confluent-compatible API (Apicurio: http://host:port/apis/ccompat/v7)?',
      { cause: err },
    );
  }
  if (op === 'schemaById' && status === 404) {
    return new DecodeError('UNKNOWN_SCHEMA_ID', `${what} is not in the registry (${registryMessage})`, err);
  }
  return new RegistryError(`schema registry ${what} answered ${status}: ${registryMessage.slice(0, 500)}`, {
    status,
    cause: err,
  });
}
