import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { CdcError, type Logger, type OutageTracker } from '@cdc/core';

/**
 * Every long-running service serves GET /healthz (200 when healthy, 503 when not, JSON body)
 * and GET /metrics (Prometheus text format) on its ops port. While the broker or the registry is
 * unreachable (the outage tracker), /healthz is 503 with `outages` saying which, since when and why.
 */
export interface Health {
  ok: boolean;
  [detail: string]: unknown;
}

export interface OpsServer {
  readonly port: number;
  readonly metrics: Registry;
  close(): Promise<void>;
}

/** Where a port comes from, so a taken port can say what to change. */
export interface PortSetting {
  /** The command-line option, e.g. `--ops-port`. */
  option: string;
  /** The environment variable, e.g. `ENRICHER_OPS_PORT` (none for a command-line-only setting). */
  env?: string;
}

/** A port another process holds: a configuration problem (exit 2) naming the option and variable. */
export class PortInUseError extends CdcError {
  constructor(port: number, what: string, setting: PortSetting | undefined, cause?: unknown) {
    const how = setting
      ? `choose another with ${setting.option} <port>${setting.env ? ` or ${setting.env}=<port>` : ''} (0 picks a free port)`
      : 'choose another port (0 picks a free port)';
    super('CONFIG_INVALID', `port ${port} for ${what} is already in use by another process: ${how}`, {
      cause,
    });
  }
}

/** Listens on `port` (0: a free one); a taken port becomes a PortInUseError. Returns the port. */
export async function listenOn(
  server: http.Server,
  port: number,
  host: string,
  what: string,
  setting?: PortSetting,
): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void =>
      reject(err.code === 'EADDRINUSE' ? new PortInUseError(port, what, setting, err) : err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

const EVENT_LOOP_MONITORING_PRECISION_MS = 100;

export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  // prom-client samples event-loop delay every 10 ms by default: a timer waking every service 100
  // times a second, ~0.4 % of a core each while idle. 100 ms is enough for the lag histograms.
  collectDefaultMetrics({
    register: registry,
    eventLoopMonitoringPrecision: EVENT_LOOP_MONITORING_PRECISION_MS,
  });
  return registry;
}

/** The health body with the outages in progress: not ok while one lasts. */
export function withOutages(h: Health, outages: OutageTracker | undefined): Health {
  const current = outages?.status() ?? [];
  if (current.length === 0) return h;
  return {
    ...h,
    ok: false,
    outages: current.map((o) => ({ ...o, since: new Date(o.since).toISOString() })),
  };
}

export async function startOpsServer(options: {
  port: number;
  host?: string;
  metrics: Registry;
  health: () => Health;
  logger: Logger;
  outages?: OutageTracker;
  /** The option and variable of the port, for the error when it is taken. */
  portSetting?: PortSetting;
}): Promise<OpsServer> {
  const server = http.createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && url === '/healthz') {
      const h = withOutages(options.health(), options.outages);
      res.writeHead(h.ok ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify(h));
    } else if (req.method === 'GET' && url === '/metrics') {
      options.metrics.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': options.metrics.contentType });
          res.end(text);
        },
        (err: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(String(err));
        },
      );
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found: try /healthz or /metrics\n');
    }
  });
  const port = await listenOn(
    server,
    options.port,
    options.host ?? '127.0.0.1',
    'the ops endpoints (/healthz, /metrics)',
    options.portSetting,
  );
  options.logger.info(
    { port, ...(options.port === 0 ? { chosen: true } : {}) },
    options.port === 0
      ? `ops endpoints on /healthz and /metrics, port ${port} (a free port was chosen)`
      : 'ops endpoints on /healthz and /metrics',
  );
  return {
    port,
    metrics: options.metrics,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
