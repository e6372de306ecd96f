import type { FastifyInstance } from 'fastify';
import type { Logger } from '@cdc/core';
import { registerApi, type ApiDeps } from './api';
import { registerAuth, type AuthOptions } from './auth';
import { createHttpApp } from './http-app';
import type { LiveUiMetrics } from './metrics';
import { registerOpenApi } from './openapi';
import { registerStatic } from './static-routes';
import { WS_PATH, type WsHub } from './ws-hub';
import { registerWsRoute } from './ws-route';

/**
 * Every route of the live UI on one fastify instance, not yet listening: the OpenAPI description
 * (registered first: it collects the routes after it), the sign-in check when auth is on (before
 * any route it guards), the static files, the API and the websocket endpoint. The server listens on it; tests inspect it.
 */
export async function createLiveUiApp(o: {
  logger: Logger;
  metrics: LiveUiMetrics;
  api: ApiDeps;
  hub: WsHub;
  allowedOrigins: () => readonly string[];
  maxClients: number;
  maxPayloadBytes: number;
  /** API tokens required (auth.ts); null: everyone who reaches the port is let in. */
  auth: AuthOptions | null;
  https?: { cert: Buffer; key: Buffer };
}): Promise<FastifyInstance> {
  const app = await createHttpApp({
    logger: o.logger,
    wsPath: WS_PATH,
    maxPayloadBytes: o.maxPayloadBytes,
    onResponse: (route, status) => o.metrics.httpRequests.inc({ route, status: String(status) }),
    onRejectedUpgrade: (reason) => o.metrics.rejectedUpgrades.inc({ reason }),
    https: o.https,
  });
  await registerOpenApi(app, { auth: o.auth !== null });
  if (o.auth) await registerAuth(app, o.auth);
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
