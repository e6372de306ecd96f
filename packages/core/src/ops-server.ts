import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Logger } from './logger';

/**
 * Every long-running service serves GET /healthz (200 when healthy, 503 when not, JSON body)
 * and GET /metrics (Prometheus text format) on its ops port.
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

export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

export async function startOpsServer(options: {
  port: number;
  host?: string;
  metrics: Registry;
  health: () => Health;
  logger: Logger;
}): Promise<OpsServer> {
  const server = http.createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && url === '/healthz') {
      const h = options.health();
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
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  options.logger.info({ port }, 'ops endpoints on /healthz and /metrics');
  return {
    port,
    metrics: options.metrics,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
