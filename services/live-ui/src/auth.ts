import fastifyAuth from '@fastify/auth';
import cookie from '@fastify/cookie';
import rateLimit from '@fastify/rate-limit';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '@cdc/core';
import { listTokens, roleAllows, type Role, type TokenRecord, type TokenStore } from './api-tokens';
import { HttpError } from './http-query';

/**
 * Who may use the dashboard and the API, when auth is on (see `authMode` in config.ts).
 *
 * - Every request but the public ones (/healthz, the sign-in page and its files, the sign-in
 *   itself) needs an active API token (api-tokens.ts): `Authorization: Bearer <token>`, or the
 *   session cookie a browser got by signing in with one (`POST /api/session`). Else 401, the
 *   websocket upgrade included (no websocket exists before the check). Both ways go through
 *   @fastify/auth; the cookie through @fastify/cookie: HttpOnly, SameSite=Strict, Secure under TLS.
 * - Sessions live in this process (a restart signs everyone out) and end with their token: a
 *   revoked token's sessions stop working at their next request.
 * - A route's `config.role` is the role it needs (default viewer); too low a role gets 403.
 * - Failed attempts (a wrong token, by header or at sign-in) are counted per client address by
 *   @fastify/rate-limit; over the limit, the client's credentials are not even checked: 429 until
 *   the window passes. One warning per client and window, never the token.
 */
export const SESSION_COOKIE = 'cdc_session';
export const SESSION_PATH = '/api/session';
/** What anyone may fetch: the sign-in page and the files it loads. */
export const PUBLIC_PATHS = new Set([
  '/healthz',
  '/login.html',
  '/js/login.js',
  '/css/login.css',
  '/favicon.svg',
]);

export interface Principal {
  tokenId: string;
  role: Role;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The role a route needs (default viewer). */
    role?: Role;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

export interface AuthOptions {
  tokens: TokenStore;
  /** Under TLS: the cookie is Secure. */
  secure: boolean;
  sessionTtlMs: number;
  /** Failed attempts a client address may make per minute. */
  maxFailuresPerMinute: number;
  logger: Logger;
}

const FAILURE_WINDOW_MS = 60_000;

/** Browser sessions: a random id → the token it was opened with. */
class Sessions {
  private readonly byId = new Map<string, { tokenId: string; expiresAtMs: number }>();

  constructor(private readonly ttlMs: number) {}

  open(tokenId: string): string {
    this.sweep();
    const id = randomBytes(32).toString('base64url');
    this.byId.set(id, { tokenId, expiresAtMs: Date.now() + this.ttlMs });
    return id;
  }

  tokenOf(id: string): string | null {
    const s = this.byId.get(id);
    if (!s) return null;
    if (s.expiresAtMs <= Date.now()) {
      this.byId.delete(id);
      return null;
    }
    return s.tokenId;
  }

  close(id: string): void {
    this.byId.delete(id);
  }

  private sweep(): void {
    const now = Date.now();
    for (const [id, s] of this.byId) if (s.expiresAtMs <= now) this.byId.delete(id);
  }
}

const bearerOf = (request: FastifyRequest): string | null => {
  const h = request.headers.authorization;
  if (h === undefined) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m ? m[1]! : '';
};

const pathOf = (request: FastifyRequest): string => request.url.split('?', 1)[0] ?? '/';

export async function registerAuth(app: FastifyInstance, o: AuthOptions): Promise<void> {
  const sessions = new Sessions(o.sessionTtlMs);
  await app.register(cookie);
  await app.register(rateLimit, { global: false });
  await app.register(fastifyAuth);
  const failures = app.createRateLimit({
    max: o.maxFailuresPerMinute,
    timeWindow: FAILURE_WINDOW_MS,
  });
  const warned = new Map<string, number>();

  /** 429 before any credential of a client over its failure limit is checked. */
  const refuseIfLimited = async (request: FastifyRequest): Promise<void> => {
    const status = await failures(request, { increment: false });
    if (status.isAllowed || status.remaining > 0) return;
    throw new HttpError(429, `too many failed sign-in attempts; retry in ${status.ttlInSeconds} s`, {
      'retry-after': String(status.ttlInSeconds),
    });
  };
  const countFailure = async (request: FastifyRequest): Promise<void> => {
    const status = await failures(request);
    const last = warned.get(request.ip) ?? 0;
    if (warned.size > 10_000) warned.clear();
    if (!status.isAllowed && status.remaining === 0 && Date.now() - last > FAILURE_WINDOW_MS) {
      warned.set(request.ip, Date.now());
      o.logger.warn(
        { client: request.ip },
        'too many failed sign-in attempts from one client; refusing it for a minute',
      );
    }
  };

  const verifyToken = async (request: FastifyRequest, token: string): Promise<Principal> => {
    await refuseIfLimited(request);
    const found = o.tokens.verify(token);
    if (!found) {
      await countFailure(request);
      throw new HttpError(401, 'the API token is not valid (unknown, revoked or malformed)', {
        'www-authenticate': 'Bearer error="invalid_token"',
      });
    }
    return { tokenId: found.id, role: found.role };
  };

  const bySession = async (request: FastifyRequest): Promise<void> => {
    const id = request.cookies[SESSION_COOKIE];
    const tokenId = id === undefined ? null : sessions.tokenOf(id);
    const role = tokenId === null ? null : o.tokens.activeRole(tokenId);
    if (tokenId === null || role === null) throw new HttpError(401, 'no valid session');
    request.principal = { tokenId, role };
  };
  const byBearer = async (request: FastifyRequest): Promise<void> => {
    const token = bearerOf(request);
    if (token === null) {
      throw new HttpError(
        401,
        `sign in: send Authorization: Bearer <API token>, or open /login.html in a browser`,
        { 'www-authenticate': 'Bearer' },
      );
    }
    request.principal = await verifyToken(request, token);
  };

  app.decorateRequest('principal', null);
  const authenticate = app.auth([bySession, byBearer]);
  app.addHook('onRequest', (request, reply, done) => {
    const p = pathOf(request);
    if (PUBLIC_PATHS.has(p) || (p === SESSION_PATH && request.method === 'POST')) done();
    else authenticate.call(app, request, reply, done);
  });
  app.addHook('preHandler', async (request) => {
    const needed = request.routeOptions.config.role ?? 'viewer';
    if (request.principal && !roleAllows(request.principal.role, needed)) {
      throw new HttpError(
        403,
        `this needs an ${needed} token; this one is a ${request.principal.role} token`,
      );
    }
  });

  registerSessionRoutes(app, { sessions, verifyToken, secure: o.secure, ttlMs: o.sessionTtlMs });
  registerTokenRoutes(app, o.tokens);
}

const tokenSchema = {
  type: 'object',
  required: ['id', 'role', 'name', 'created_at'],
  properties: {
    id: { type: 'string' },
    role: { type: 'string', enum: ['viewer', 'operator'] },
    name: { type: 'string' },
    created_at: { type: 'string', format: 'date-time' },
    revoked_at: { type: 'string', format: 'date-time' },
  },
} as const;

/** What an operator may change through the API: the tokens (never shown, only their ids). */
function registerTokenRoutes(app: FastifyInstance, tokens: TokenStore): void {
  const publicView = ({ sha256: _hash, ...t }: TokenRecord) => t;
  app.get(
    '/api/tokens',
    {
      config: { route: 'tokens', role: 'operator' },
      schema: {
        tags: ['operations'],
        summary: 'The API tokens (operator)',
        description: 'Ids, roles, names and dates of the API tokens; never the tokens or their hashes.',
        response: {
          200: { description: 'Every token, revoked ones included', type: 'array', items: tokenSchema },
          403: { $ref: 'Error#', description: 'Not an operator token' },
        },
      },
    },
    () => listTokens(tokens.file).map(publicView),
  );
  app.delete<{ Params: { id: string } }>(
    '/api/tokens/:id',
    {
      config: { route: 'tokens', role: 'operator' },
      schema: {
        tags: ['operations'],
        summary: 'Revoke an API token (operator)',
        description: 'The token and every session opened with it stop working at their next request.',
        params: {
          type: 'object',
          required: ['id'],
          properties: { id: { type: 'string', pattern: '^[0-9a-f]{12}$' } },
        },
        response: {
          204: { description: 'Revoked', type: 'null' },
          403: { $ref: 'Error#', description: 'Not an operator token' },
          404: { $ref: 'Error#', description: 'No token with this id' },
        },
      },
    },
    (request, reply) => {
      if (!tokens.revoke(request.params.id))
        throw new HttpError(404, `no token with id ${request.params.id}`);
      return reply.code(204).send();
    },
  );
}

function registerSessionRoutes(
  app: FastifyInstance,
  o: {
    sessions: Sessions;
    verifyToken: (request: FastifyRequest, token: string) => Promise<Principal>;
    secure: boolean;
    ttlMs: number;
  },
): void {
  app.post<{ Body: { token: string } }>(
    SESSION_PATH,
    {
      config: { route: 'session' },
      schema: {
        tags: ['operations'],
        summary: 'Sign in with an API token',
        description:
          'Exchanges an API token for a session cookie (HttpOnly, SameSite=Strict, Secure under TLS): how the dashboard signs a browser in. Failed attempts are rate-limited per client.',
        security: [],
        body: {
          type: 'object',
          required: ['token'],
          additionalProperties: false,
          properties: { token: { type: 'string', minLength: 1, maxLength: 200 } },
        },
        response: {
          200: {
            description: 'Signed in; the cookie is set',
            type: 'object',
            required: ['role'],
            properties: { role: { type: 'string', enum: ['viewer', 'operator'] } },
          },
          401: { $ref: 'Error#', description: 'The token is not valid' },
          429: { $ref: 'Error#', description: 'Too many failed attempts from this client' },
        },
      },
    },
    async (request, reply: FastifyReply) => {
      const principal = await o.verifyToken(request, request.body.token);
      const id = o.sessions.open(principal.tokenId);
      reply.setCookie(SESSION_COOKIE, id, {
        httpOnly: true,
        sameSite: 'strict',
        secure: o.secure,
        path: '/',
        maxAge: Math.floor(o.ttlMs / 1000),
      });
      return { role: principal.role };
    },
  );
  app.delete(
    SESSION_PATH,
    {
      config: { route: 'session' },
      schema: {
        tags: ['operations'],
        summary: 'Sign out',
        response: { 204: { description: 'Signed out; the cookie is cleared', type: 'null' } },
      },
    },
    async (request, reply) => {
      const id = request.cookies[SESSION_COOKIE];
      if (id !== undefined) o.sessions.close(id);
      reply.clearCookie(SESSION_COOKIE, { path: '/' }).code(204);
      return null;
    },
  );
}
