import { CdcError, errorMessage } from '@cdc/core';

/** Kafka Connect's REST API, the few calls `cdc source` makes. */
export class ConnectRest {
  constructor(readonly url: string) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    let res: Response;
    try {
      res = await fetch(`${this.url}${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (err) {
      throw new CdcError(
        'CONFIG_INVALID',
        `Kafka Connect is not reachable at ${this.url} (${errorMessage(err)}): start it with \`cdc stack up --source postgres\`, or set CONNECT_URL to your Connect cluster`,
        { cause: err },
      );
    }
    const text = await res.text();
    const parsed = text ? (JSON.parse(text) as T) : (undefined as T);
    if (res.status >= 500)
      throw new CdcError('DEPENDENCY_FAILED', `Kafka Connect ${method} ${path}: ${res.status} ${text}`);
    return { status: res.status, body: parsed };
  }

  /** Fails with what to do when Connect does not answer or lacks the Debezium plugin. */
  async checkPlugin(connectorClass: string): Promise<void> {
    const { body } = await this.request<{ class: string }[]>('GET', '/connector-plugins');
    if (!body.some((p) => p.class === connectorClass)) {
      throw new CdcError(
        'CONFIG_INVALID',
        `Kafka Connect at ${this.url} has no ${connectorClass} plugin: install the Debezium PostgreSQL connector on its plugin.path`,
      );
    }
  }
}

export interface ConnectorStatus {
  name: string;
  connector: { state: string; trace?: string };
  tasks: { id: number; state: string; trace?: string }[];
}
