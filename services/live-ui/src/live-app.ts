import type { FastifyInstance } from 'fastify';
import type { Logger } from '@cdc/core';
import { registerApi, type ApiDeps } from './api';
import { createHttpApp } from './http-app';
import type { LiveUiMetrics } from './metrics';
import { registerOpenApi } from './openapi';
import { registerStatic } from './static-routes';
import { WS_PATH, type WsHub } from './ws-hub';
import { registerWsRoute } from './ws-route';

/**
 * Every route of the live UI on one fastify instance, not yet listening: the OpenAPI description
 * (registered first: it collects the routes after it), the static files, the API and the
 * websocket endpoint. The server listens on it; tests inspect it.
 */
export async function createLiveUiApp(o: {
  logger: Logger;
  metrics: LiveUiMetrics;
  api: ApiDeps;
  hub: WsHub;
  allowedOrigins: () => readonly string[];
  maxClients: number;
  maxPayloadBytes: number;
}): Promise<FastifyInstance> {
  const app = await createHttpApp({
    logger: o.logger,
    wsPath: WS_PATH,
    maxPayloadBytes: o.maxPayloadBytes,
    onResponse: (route, status) => o.metrics.httpRequests.inc({ route, status: String(status) }),
    onRejectedUpgrade: (reason) => o.metrics.rejectedUpgrades.inc({ reason }),
  });
  await registerOpenApi(app);
  await registerStatic(app);
  registerApi(app, o.api);
  registerWsRoute(app, {
    hub: o.hub,
    allowedOrigins: o.allowedOrigins,
    maxClients: o.maxClients,
    logger: o.logger,
  });
  return app;
}
