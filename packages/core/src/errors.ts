/**
 * Typed errors. Every error the pipeline raises on purpose is a CdcError with a stable `code` and
 * a `retriable` flag. The code is a *kind*: what a caller can do about the error, not where it
 * happened. The place is in the message ("backfill: …", "alerts database …"), so this module knows
 * no service. `retriable` says whether waiting may help: the stage retries or stalls on it;
 * otherwise the error is reported and, for a record, dead-lettered. Nothing is lost silently.
 *
 * The table of kinds (and which exit code of `cdc` each gives) is in DEVELOPERS.md ("Errors").
 */
export type ErrorKind =
  /** A setting is wrong or missing (an environment variable, an option's value, a port another process holds): fix it. */
  | 'CONFIG_INVALID'
  /** The command line or a call is wrong (an unknown option, a missing argument): fix the command. */
  | 'USAGE'
  /** The input is wrong (a file, a request): fix it; a record's bytes get a dead-letter reason instead. */
  | 'INVALID_INPUT'
  /** A dependency does not answer (broker, registry, database, webhook): wait and retry. */
  | 'UNAVAILABLE'
  /** A dependency answered with a final no, or broke (a refused record, a failed external program): retrying the same fails again. */
  | 'DEPENDENCY_FAILED'
  /** Someone else holds it (another process runs the backfill, a partition is another member's): wait for them, or stop them. */
  | 'CONFLICT'
  /** A wait ran out of time; the work may still complete: run it again to keep waiting. */
  | 'TIMED_OUT'
  /** The process was asked to stop (a signal, an abort) before the work finished. */
  | 'INTERRUPTED'
  /** A schema is not compatible with the versions registered before it. */
  | 'SCHEMA_INCOMPATIBLE'
  /** Stored state is corrupt or from another version (a database file): move it away, rebuild or upgrade. */
  | 'STORED_STATE_INVALID'
  /** A bug: code called in a way it does not support. */
  | 'INTERNAL';

/**
 * Why a record's bytes cannot become a record. Finer than a kind on purpose: these are the
 * dead-letter reasons of the data contract (the `dlq.error.code` header, docs/contract.md), which
 * readers of the dead-letter topic filter on (`cdc dlq list --code`, the UI), so they stay as the
 * contract names them. Each one is of the kind "fix the input or dead-letter it".
 */
export type DeadLetterReason =
  'WRONG_MAGIC_BYTE' | 'TRUNCATED_FRAME' | 'UNKNOWN_SCHEMA_ID' | 'SCHEMA_MISMATCH' | 'RECORD_TOO_LARGE';

export type ErrorCode = ErrorKind | DeadLetterReason;

export class CdcError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;

  constructor(code: ErrorCode, message: string, options: { retriable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = options.retriable ?? false;
  }
}

/** Bad configuration: the service stops at start with this message. */
export class ConfigError extends CdcError {
  constructor(message: string) {
    super('CONFIG_INVALID', message);
  }
}

/** Bad command-line usage: exit code 2. */
export class UsageError extends CdcError {
  constructor(message: string) {
    super('USAGE', message);
  }
}

/** Bytes that cannot be decoded into a record. Never retriable: the record goes to the dead-letter topic. */
export class DecodeError extends CdcError {
  constructor(
    code: 'WRONG_MAGIC_BYTE' | 'TRUNCATED_FRAME' | 'UNKNOWN_SCHEMA_ID' | 'SCHEMA_MISMATCH',
    message: string,
    cause?: unknown,
  ) {
    super(code, message, { retriable: false, cause });
  }
}

/** What an UnavailableError says does not answer; the broker and the registry are outages (lifecycle/outage.ts). */
export type UnavailableDependency = 'broker' | 'registry' | 'database' | 'webhook' | 'alertmanager';

/** A dependency that does not answer: always retriable (the caller waits and tries again). */
export class UnavailableError extends CdcError {
  constructor(
    readonly dependency: UnavailableDependency,
    message: string,
    cause?: unknown,
  ) {
    super('UNAVAILABLE', message, { retriable: true, cause });
  }
}

/**
 * The schema registry's errors: it does not answer (UNAVAILABLE, retriable), refuses a schema as
 * incompatible (409), or answers anything else (DEPENDENCY_FAILED, with its status).
 */
export class RegistryError extends CdcError {
  readonly status: number | undefined;

  constructor(message: string, options: { status?: number; retriable?: boolean; cause?: unknown } = {}) {
    super(
      options.status === 409
        ? 'SCHEMA_INCOMPATIBLE'
        : options.retriable
          ? 'UNAVAILABLE'
          : 'DEPENDENCY_FAILED',
      message,
      options,
    );
    this.status = options.status;
  }
}

/** The local stack (`cdc stack`): an external program (Maven, Java, Kafka) failed, or a port it needs is taken. */
export class StackError extends CdcError {
  constructor(message: string, code: 'DEPENDENCY_FAILED' | 'CONFIG_INVALID' = 'DEPENDENCY_FAILED') {
    super(code, message);
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
