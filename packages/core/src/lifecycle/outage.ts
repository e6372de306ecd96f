import { CdcError, errorMessage, RegistryError, UnavailableError } from '../errors';
import type { Logger } from '../logger';
import { isBrokerOutage } from '../kafka/errors';

/**
 * The one outage policy of the pipeline. What counts as "the broker or the registry does not
 * answer" (`outageOf`; what kafkajs's errors mean is kafka/errors.ts), and how a process reports it (`OutageTracker`): the first failure of an
 * outage logs one warning with the reason, retries log at debug, the recovery logs one info line
 * with the duration and the number of retries, and `/healthz` says not-ready with the reason while
 * it lasts (the ops server of @cdc/observe reads `status()`). Waiting itself is
 * `retryWhileOutage` (retry.ts).
 */
export type Dependency = 'broker' | 'registry';

/** Node's network errors: the broker (or registry) host does not answer. */
const NODE_OUTAGE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
]);

interface ErrorShape {
  code?: unknown;
  retriable?: unknown;
  cause?: unknown;
  originalError?: unknown;
}

/**
 * Which dependency an error says is unreachable, or null when it is not an outage (a bad record,
 * a bad config, a bug: those are not retried by waiting). Follows `cause`/`originalError` chains.
 */
export function outageOf(err: unknown, depth = 0): Dependency | null {
  if (err === null || typeof err !== 'object' || depth > 8) return null;
  const e = err as ErrorShape;
  if (err instanceof CdcError) {
    if (err instanceof RegistryError && err.code === 'UNAVAILABLE') return 'registry';
    if (err instanceof UnavailableError && (err.dependency === 'broker' || err.dependency === 'registry'))
      return err.dependency;
    if (!err.retriable) return null;
  }
  if (isBrokerOutage(err)) return 'broker';
  if (typeof e.code === 'string' && NODE_OUTAGE_CODES.has(e.code)) return 'broker';
  return outageOf(e.cause, depth + 1) ?? outageOf(e.originalError, depth + 1);
}

/** The innermost message of an error chain: "connect ECONNREFUSED 127.0.0.1:9092", not "retries exceeded". */
export function outageReason(err: unknown): string {
  let e: unknown = err;
  for (let i = 0; i < 8; i++) {
    const next = (e as ErrorShape | null)?.originalError ?? (e as ErrorShape | null)?.cause;
    if (next === undefined || next === null) break;
    e = next;
  }
  return errorMessage(e);
}

export interface OutageState {
  dependency: Dependency;
  /** When the first failure of this outage was seen (epoch ms). */
  since: number;
  reason: string;
  /** Failures seen since (each retry that failed). */
  retries: number;
}

export interface OutageTrackerOptions {
  logger: Logger;
  /** Epoch ms clock (tests inject one). */
  now?: () => number;
}

/** Per process (or per client): is the broker or registry unreachable right now, since when, why. */
export class OutageTracker {
  private readonly current = new Map<Dependency, OutageState>();
  private readonly log: Logger;
  private readonly now: () => number;

  constructor(o: OutageTrackerOptions) {
    this.log = o.logger.child({ component: 'outage' });
    this.now = o.now ?? Date.now;
  }

  /** A failed attempt. The first one of an outage logs a warning; later ones log at debug. */
  failed(dependency: Dependency, err: unknown, what?: string): void {
    const reason = outageReason(err);
    const s = this.current.get(dependency);
    if (s) {
      s.retries += 1;
      s.reason = reason;
      this.log.debug(
        { dependency, what, err: reason, retries: s.retries },
        `${dependency} still unreachable`,
      );
      return;
    }
    this.current.set(dependency, { dependency, since: this.now(), reason, retries: 0 });
    this.log.warn(
      { dependency, what, err: reason },
      `${dependency === 'broker' ? 'Kafka broker' : 'schema registry'} unreachable: waiting and retrying (logged once per outage)`,
    );
  }

  /** An attempt that worked. Ends the outage, if there was one, with one info line. */
  recovered(dependency: Dependency): void {
    const s = this.current.get(dependency);
    if (!s) return;
    this.current.delete(dependency);
    this.log.info(
      { dependency, outageMs: this.now() - s.since, retries: s.retries, lastError: s.reason },
      `${dependency === 'broker' ? 'Kafka broker' : 'schema registry'} reachable again`,
    );
  }

  /** Reports an attempt's error: an outage is tracked (true); anything else is left to the caller (false). */
  report(err: unknown, what?: string): boolean {
    const dependency = outageOf(err);
    if (dependency === null) return false;
    this.failed(dependency, err, what);
    return true;
  }

  isDown(dependency?: Dependency): boolean {
    return dependency ? this.current.has(dependency) : this.current.size > 0;
  }

  /** The outages in progress, for /healthz and `cdc status`. */
  status(): OutageState[] {
    return [...this.current.values()].map((s) => ({ ...s }));
  }

  /** How long the current outage of `dependency` has lasted (0 when none). */
  durationMs(dependency: Dependency): number {
    const s = this.current.get(dependency);
    return s ? this.now() - s.since : 0;
  }
}
