import type { IncomingMessage, ServerResponse } from 'node:http';

/** A tiny router for node:http: exact paths, GET (and HEAD) only, JSON errors. */
export type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void | Promise<void>;

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const SECURITY_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-resource-policy': 'same-origin',
};

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

export function sendText(
  res: ServerResponse,
  status: number,
  body: string | Buffer,
  contentType: string,
  extra: Record<string, string> = {},
): void {
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    ...extra,
  });
  res.end(body);
}

export function securityHeaders(): Record<string, string> {
  return { ...SECURITY_HEADERS };
}

export interface Route {
  path: string;
  /** Label for metrics. */
  name: string;
  handler: Handler;
}

export class Router {
  private readonly routes = new Map<string, Route>();

  get(path: string, name: string, handler: Handler): this {
    this.routes.set(path, { path, name, handler });
    return this;
  }

  /** The route for a path, or undefined. */
  match(pathname: string): Route | undefined {
    return this.routes.get(pathname);
  }
}
