import { errorMessage, type Logger } from '@cdc/core';
import type { ConnectRest, ConnectorStatus } from './source/connect-rest';
import { connectorStatus } from './source/connector';

/** What the watch counts and shows on /metrics. */
export interface ConnectorWatchMetrics {
  restarted(): void;
  state(up: boolean | null): void;
}

export interface ConnectorWatchOptions {
  rest: ConnectRest;
  connector: string;
  /** Between two looks at the connector's status. */
  intervalMs: number;
  /** The longest wait between two restarts of a connector that keeps failing. */
  maxBackoffMs: number;
  logger: Logger;
  metrics: ConnectorWatchMetrics;
}

/** The connector's state as the watch reports it on /healthz. */
export type WatchedState =
  'running' | 'failed' | 'restarting' | 'paused' | 'missing' | 'unreachable' | 'unknown';

/**
 * Keeps the Debezium connector running. Kafka Connect never restarts a task that failed, and a
 * Debezium task fails for good when its database is unreachable while it starts (a worker
 * restarted while PostgreSQL restarts: "Failed to create TypeRegistry"); capture then stalls
 * until someone restarts it by hand. So the capture stage, which depends on it, restarts a FAILED
 * connector or task itself (Connect's `restart?includeTasks=true&onlyFailed=true`), waiting twice
 * as long after each restart that did not hold, and logs why. Debezium resumes from the LSN it
 * confirmed; a change it sends again is skipped downstream by the version rule.
 *
 * A paused or stopped connector is the operator's choice and is left alone; a missing one (not
 * created yet) is waited for quietly.
 */
export class ConnectorWatch {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private backoffMs: number;
  private nextRestartAt = 0;
  private unreachableLogged = false;
  private restarted = false;
  current: WatchedState = 'unknown';

  constructor(private readonly o: ConnectorWatchOptions) {
    this.backoffMs = o.intervalMs;
  }

  start(): void {
    const tick = (): void => {
      this.running = this.check().finally(() => {
        this.running = null;
        if (this.timer) this.timer = setTimeout(tick, this.o.intervalMs).unref();
      });
    };
    this.timer = setTimeout(tick, 0).unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  /** One look at the connector: restarts it when it failed and its backoff has passed. */
  async check(): Promise<void> {
    let status: ConnectorStatus | null;
    try {
      status = await connectorStatus(this.o.rest, this.o.connector);
    } catch (err) {
      this.see('unreachable');
      if (!this.unreachableLogged)
        this.o.logger.warn(
          { err: errorMessage(err), connector: this.o.connector },
          'kafka connect unreachable',
        );
      this.unreachableLogged = true;
      return;
    }
    this.unreachableLogged = false;
    if (status === null) return this.see('missing');
    const failed = [status.connector, ...status.tasks].filter((x) => x.state === 'FAILED');
    if (failed.length === 0) {
      const states = [status.connector.state, ...status.tasks.map((t) => t.state)];
      if (states.some((s) => s === 'PAUSED' || s === 'STOPPED')) return this.see('paused');
      if (states.every((s) => s === 'RUNNING')) {
        if (this.restarted) this.o.logger.info({ connector: this.o.connector }, 'connector running again');
        this.restarted = false;
        this.backoffMs = this.o.intervalMs;
        this.nextRestartAt = 0;
        return this.see('running');
      }
      return this.see('restarting');
    }
    await this.restart(failed.map((f) => f.trace?.split('\n')[0] ?? 'no trace'));
  }

  private async restart(traces: string[]): Promise<void> {
    this.see('failed');
    if (Date.now() < this.nextRestartAt) return;
    this.o.logger.warn(
      { connector: this.o.connector, cause: traces[0], nextRestartInMs: this.backoffMs },
      'connector failed; restarting it',
    );
    try {
      const path = `/connectors/${encodeURIComponent(this.o.connector)}/restart?includeTasks=true&onlyFailed=true`;
      await this.o.rest.request('POST', path);
      this.o.metrics.restarted();
      this.restarted = true;
      this.see('restarting');
    } catch (err) {
      this.o.logger.warn(
        { err: errorMessage(err), connector: this.o.connector },
        'connector restart refused',
      );
    }
    this.nextRestartAt = Date.now() + this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.o.maxBackoffMs);
  }

  private see(state: WatchedState): void {
    this.current = state;
    this.o.metrics.state(
      state === 'running' ? true : state === 'unknown' || state === 'unreachable' ? null : false,
    );
  }
}
