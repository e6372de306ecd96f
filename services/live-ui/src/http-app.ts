import helmet from '@fastify/helmet';
import type { Socket } from 'node:net';
import websocket from '@fastify/websocket';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyRequest,
} from 'fastify';
import { type Logger } from '@cdc/core';
import { errorSchema } from './api-schemas';
import { DbUnavailableError } from '@cdc/read-model';
import { AJV_OPTIONS, HttpError, parseQueryString, queryErrorFormatter } from './http-query';

/**
 * The live UI's fastify instance before any route: what every request goes through.
 *
 * - Limits: headers (request line included) up to MAX_HEADER_BYTES, else 431 (fastify's client
 *   error handler, which also answers a malformed request with 400); a URL over MAX_URL_BYTES
 *   gets 414. Nothing is answered by silently closing the socket.
 * - Security headers on every response (@fastify/helmet), with the page's Content-Security-Policy:
 *   only this origin, no inline script or style, no framing.
 * - Errors as `{"error": "<reason>"}`: 400 naming the bad parameter, 404 for an unknown path,
 *   405 with `Allow: GET, HEAD` for another method on a known one, 503 while the aggregator's
 *   database is missing, 500 (logged) for anything unexpected.
 * - Websockets through @fastify/websocket (the `ws` package): an upgrade runs through the same
 *   routing, hooks and validation as any request before it is accepted.
 */
export const MAX_URL_BYTES = 16 * 1024;
/** An upgrade request's socket that has not become a websocket is closed after this idle time. */
const UPGRADE_IDLE_MS = 10_000;
export const MAX_HEADER_BYTES = 32 * 1024;

/** The page's Content-Security-Policy: only this origin (its websocket included). */
export const CSP_DIRECTIVES = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  frameAncestors: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'self'"],
  objectSrc: ["'none'"],
};

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route's label in the `cdc_live_ui_http_requests_total` metric. */
    route?: string;
  }
}

export interface HttpAppOptions {
  logger: Logger;
  /** The one path that accepts websocket upgrades (an upgrade anywhere else gets 404). */
  wsPath: string;
  /** Largest websocket message accepted from a browser (larger: close 1009). */
  maxPayloadBytes: number;
  /** Called once per answered request (for metrics). */
  onResponse?: (route: string, status: number) => void;
  /** Called when a websocket upgrade is refused, with the reason. */
  onRejectedUpgrade?: (reason: 'path' | 'origin' | 'query' | 'full' | 'auth' | 'other') => void;
  /** Serve HTTPS with this certificate and key (PEM); else plain HTTP. */
  https?: { cert: Buffer; key: Buffer };
}

const upgradeReason = (status: number) =>
  status === 401 || status === 429
    ? 'auth'
    : status === 404
      ? 'path'
      : status === 403
        ? 'origin'
        : status === 400
          ? 'query'
          : status === 503
            ? 'full'
            : 'other';

const pathOf = (request: FastifyRequest): string => request.url.split('?', 1)[0] ?? '/';

export async function createHttpApp(o: HttpAppOptions): Promise<FastifyInstance> {
  const options = {
    loggerInstance: o.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    // Node's default (fastify turns it off): a client must send its whole request within 5 min.
    requestTimeout: 300_000,
    routerOptions: { querystringParser: parseQueryString },
    ajv: { customOptions: AJV_OPTIONS },
    schemaErrorFormatter: queryErrorFormatter,
  };
  // Under TLS the instance serves HTTPS; its routes and hooks are the same.
  const app = (o.https
    ? Fastify({ ...options, https: { ...o.https, maxHeaderSize: MAX_HEADER_BYTES } })
    : Fastify({ ...options, http: { maxHeaderSize: MAX_HEADER_BYTES } })) as unknown as FastifyInstance;
  // Responses are written with JSON.stringify, not compiled from the response schemas: those
  // document the API (and the tests check every response against them) but must never drop a
  // field or round a number on the way out.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.addSchema(errorSchema);

  /** Every GET route's exact path, to tell 405 (known path, other method) from 404. */
  const getPaths = new Set<string>();
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (methods.includes('GET')) getPaths.add(route.url);
  });

  await app.register(helmet, {
    global: true,
    contentSecurityPolicy: { useDefaults: false, directives: CSP_DIRECTIVES },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    crossOriginResourcePolicy: { policy: 'same-origin' },
    // Over plain HTTP browsers ignore HSTS; under TLS it keeps them on HTTPS.
    strictTransportSecurity: o.https ? { maxAge: 15_552_000 } : false,
  });
  await app.register(websocket, {
    options: { maxPayload: o.maxPayloadBytes, perMessageDeflate: false },
    errorHandler: (err, socket, request) => {
      // What a client sends wrong (an oversize frame, invalid UTF-8, a bad opcode: ws's WS_ERR_*)
      // or a dropped connection is the client's doing: closed, logged at debug, never as an
      // error (a hostile client would fill the error log). Anything else is ours.
      if (isClientSocketError(err))
        request.log.debug({ err: err.message }, 'websocket client broke the protocol; closed');
      else request.log.error({ err }, 'websocket handler failed');
      socket.terminate();
    },
  });

  app.addHook('onRequest', async (request) => {
    if (request.url.length > MAX_URL_BYTES) {
      throw new HttpError(414, `the URL is longer than ${MAX_URL_BYTES} bytes`);
    }
    if (request.ws && !request.is404 && request.routeOptions.url !== o.wsPath) {
      throw new HttpError(404, `no websocket endpoint at ${pathOf(request)}; use ${o.wsPath}`);
    }
  });
  // A request with an `Upgrade` header reaches fastify through @fastify/websocket's 'upgrade'
  // listener, on a socket Node's HTTP server no longer manages: when it does not become a
  // websocket (any other path, a bad URL, `Upgrade: h2c` as curl --http2 sends), nothing ended
  // that socket after the answer, so it stayed open for ever (found by fuzzing: such sockets
  // piled up and kept the server from closing). It is ended once answered; an idle timer is the
  // safety net (ws clears it when the socket does become a websocket).
  app.server.on('upgrade', (_req: unknown, socket: Socket) => {
    socket.setTimeout(UPGRADE_IDLE_MS, () => socket.destroy());
  });
  app.addHook('onResponse', async (request) => {
    if (request.ws) request.raw.socket.end();
  });
  if (o.onResponse) {
    const report = o.onResponse;
    app.addHook('onResponse', async (request, reply) => {
      const route =
        request.routeOptions.config.route ??
        (request.is404 ? 'unknown' : request.routeOptions.url?.startsWith('/api/docs') ? 'docs' : 'static');
      report(route, reply.statusCode);
    });
  }

  app.setNotFoundHandler(async (request, reply) => {
    const path = pathOf(request);
    if (request.ws) throw new HttpError(404, `no websocket endpoint at ${path}; use ${o.wsPath}`);
    if (request.method !== 'GET' && request.method !== 'HEAD' && getPaths.has(path)) {
      throw new HttpError(405, `method ${request.method} not allowed; use GET`, { allow: 'GET, HEAD' });
    }
    reply.code(404);
    return { error: `no such resource: ${path}` };
  });

  app.setErrorHandler(async (err, request, reply) => {
    let status: number;
    let message: string;
    if (err instanceof HttpError) {
      status = err.status;
      message = err.message;
      reply.headers(err.headers);
    } else if (err instanceof DbUnavailableError) {
      status = 503;
      message = err.message;
    } else if (isClientError(err)) {
      // fastify's own 4xx (a malformed URL, an unsupported body...): its message is the reason.
      status = err.statusCode;
      message = err.message;
    } else {
      request.log.error({ err, url: pathOf(request) }, 'request failed');
      status = 500;
      message = 'internal error';
    }
    if (request.ws) o.onRejectedUpgrade?.(upgradeReason(status));
    reply.code(status).header('cache-control', 'no-store');
    if (status === 401 && !request.ws && request.method === 'GET' && prefersHtml(request)) {
      // A browser opening a page while signed out: to the sign-in page (no script: CSP).
      reply.type('text/html; charset=utf-8');
      return SIGN_IN_PAGE;
    }
    return { error: message };
  });

  return app;
}

function isClientError(err: unknown): err is { statusCode: number; message: string } {
  const status = (err as { statusCode?: unknown }).statusCode;
  return typeof status === 'number' && status >= 400 && status < 500;
}

const SIGN_IN_PAGE =
  '<!doctype html><meta http-equiv="refresh" content="0;url=/login.html"><title>Sign in</title><a href="/login.html">Sign in</a>\n';

/** A browser navigating (its Accept names HTML first), not a script asking for JSON. */
const prefersHtml = (request: FastifyRequest): boolean => /^text\/html/.test(request.headers.accept ?? '');

/** An error ws raises for what the peer sent (its codes are WS_ERR_*), or a connection the peer dropped. */
function isClientSocketError(err: Error): boolean {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  return code.startsWith('WS_ERR_') || code === 'ECONNRESET' || code === 'EPIPE' || code === 'ETIMEDOUT';
}
