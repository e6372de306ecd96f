import type { FastifyInstance } from 'fastify';
import type { Logger } from '@cdc/core';
import { wsQuerySchema } from './api-schemas';
import { HttpError } from './http-query';
import { originAllowed } from './protocol';
import type { WsQuery } from './query';
import { WS_PATH, type WsHub } from './ws-hub';

/**
 * The websocket endpoint (GET /ws with an upgrade), through @fastify/websocket: the upgrade runs
 * through fastify's hooks and validation like any request, and is refused with an HTTP status
 * before any websocket exists: 403 for a foreign Origin (cross-site websocket hijacking), 400 for
 * a bad `?since=&epoch=`, 503 when the client limit is reached, 404 without an upgrade. An
 * accepted socket goes to the hub. Not part of the OpenAPI description (the plugin hides it).
 */
export function registerWsRoute(
  app: FastifyInstance,
  o: { hub: WsHub; allowedOrigins: () => readonly string[]; maxClients: number; logger: Logger },
): void {
  app.get<{ Querystring: WsQuery }>(
    WS_PATH,
    {
      websocket: true,
      config: { route: 'ws' },
      schema: { querystring: wsQuerySchema },
      onRequest: async (request) => {
        if (!request.ws)
          throw new HttpError(404, `${WS_PATH} is a websocket endpoint: connect with a websocket`);
        const origin = request.headers.origin;
        if (!originAllowed(origin, o.allowedOrigins())) {
          o.logger.warn({ origin }, 'refused a websocket from a foreign origin');
          throw new HttpError(403, `origin ${origin ?? ''} is not allowed`);
        }
      },
      preHandler: async () => {
        if (o.hub.clientCount() >= o.maxClients) {
          throw new HttpError(503, `too many clients (limit ${o.maxClients})`);
        }
      },
    },
    (socket, request) => o.hub.accept(socket, request.query),
  );
}
