/**
 * Typed errors. Every error the pipeline raises on purpose is a CdcError with a stable `code`
 * and a `retriable` flag: retriable errors (a broker or registry that does not answer) are
 * retried or stall the stage; non-retriable ones (bad bytes, bad config) are reported and,
 * for records, dead-lettered.
 */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'USAGE'
  | 'WRONG_MAGIC_BYTE'
  | 'TRUNCATED_FRAME'
  | 'UNKNOWN_SCHEMA_ID'
  | 'SCHEMA_MISMATCH'
  | 'REGISTRY_UNAVAILABLE'
  | 'REGISTRY_ERROR'
  | 'SCHEMA_INCOMPATIBLE'
  | 'STACK_ERROR'
  | 'PORT_IN_USE'
  | 'BROKER_UNAVAILABLE'
  | 'BACKFILL_SWITCH_TIMEOUT'
  | 'BACKFILL_BUSY'
  | 'BACKFILL_FAILED'
  | 'REQUEST_REJECTED'
  | 'TIMED_OUT'
  | 'INTERRUPTED'
  | 'INTERNAL'
  | 'REBUILD_FAILED'
  | 'RECORD_TOO_LARGE'
  | 'TRANSACTION_REFUSED'
  | 'TRANSACTION_FAILED'
  | 'SEND_FAILED'
  | 'UNKNOWN_TIME_ZONE'
  | 'INVALID_ARGUMENT'
  | 'KPI_DEFINITION_INVALID'
  | 'DB_UNAVAILABLE'
  | 'DB_INCONSISTENT'
  | 'DB_SCHEMA_UNSUPPORTED'
  | 'BATCH_CLOSED'
  | 'INPUT_UNREADABLE'
  | 'WEBHOOK_FAILED'
  | 'ABORTED'
  | 'FENCED_INSTANCE';

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

export class RegistryError extends CdcError {
  readonly status: number | undefined;

  constructor(message: string, options: { status?: number; retriable?: boolean; cause?: unknown } = {}) {
    super(
      options.status === 409
        ? 'SCHEMA_INCOMPATIBLE'
        : options.retriable
          ? 'REGISTRY_UNAVAILABLE'
          : 'REGISTRY_ERROR',
      message,
      options,
    );
    this.status = options.status;
  }
}

export class StackError extends CdcError {
  constructor(message: string, code: 'STACK_ERROR' | 'PORT_IN_USE' = 'STACK_ERROR') {
    super(code, message);
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
