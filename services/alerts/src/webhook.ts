import { createHmac } from 'node:crypto';
import { ConfigError, errorMessage, UnavailableError, type Alert } from '@cdc/core';
import { idempotencyKey } from './engine/record';

/**
 * Webhook notifications: one JSON POST per transition, signed per the Standard Webhooks
 * specification (https://www.standardwebhooks.com), so a receiver verifies it with a stock
 * library (`standardwebhooks` on npm, and its ports to other languages).
 *
 * Headers:
 * - `webhook-id: <alert id>:<firing|resolved>` — the transition's idempotency key: the same on
 *   every retry, so a receiver that remembers the ids it accepted sees each transition at most
 *   once (also sent as `Idempotency-Key`);
 * - `webhook-timestamp: <epoch seconds of this attempt>` — receivers refuse old ones (replays);
 * - with a secret (`whsec_<base64>`), `webhook-signature: v1,<base64 HMAC-SHA256 of
 *   "<id>.<timestamp>.<body>">` keyed with the secret's decoded bytes.
 *
 * Body: `{ "idempotency_key", "status": "firing" | "resolved", "alert": <the Alert record> }`.
 * A 2xx answer is a delivery; anything else (a refused connection, a timeout, any other status)
 * is retried by the dispatcher.
 */
export const ID_HEADER = 'webhook-id';
export const TIMESTAMP_HEADER = 'webhook-timestamp';
export const SIGNATURE_HEADER = 'webhook-signature';
export const IDEMPOTENCY_HEADER = 'idempotency-key';

/** A Standard Webhooks secret: `whsec_` then the base64 of 24 to 64 random bytes. */
const SECRET_FORMAT = /^whsec_([A-Za-z0-9+/]+={0,2})$/;
export const MIN_SECRET_BYTES = 24;
export const MAX_SECRET_BYTES = 64;

/** The HMAC key of a `whsec_…` secret, or a reason it is not one. */
export function secretKey(secret: string): Buffer | string {
  const m = SECRET_FORMAT.exec(secret);
  if (!m)
    return 'must be whsec_ followed by base64 (generate one with: echo "whsec_$(openssl rand -base64 32)")';
  const key = Buffer.from(m[1]!, 'base64');
  if (key.length < MIN_SECRET_BYTES || key.length > MAX_SECRET_BYTES)
    return `must decode to ${MIN_SECRET_BYTES}–${MAX_SECRET_BYTES} bytes, got ${key.length}`;
  return key;
}

export interface WebhookBody {
  idempotency_key: string;
  status: 'firing' | 'resolved';
  alert: Alert;
}

export function webhookBody(alert: Alert): string {
  const body: WebhookBody = {
    idempotency_key: idempotencyKey(alert),
    status: alert.status === 'FIRING' ? 'firing' : 'resolved',
    alert,
  };
  return JSON.stringify(body);
}

/** `v1,<signature>` of a message per Standard Webhooks; `key` is the secret's decoded bytes. */
export function sign(key: Buffer, id: string, timestampS: number, body: string): string {
  return `v1,${createHmac('sha256', key).update(`${id}.${timestampS}.${body}`).digest('base64')}`;
}

/** The headers of one delivery attempt of `body` with id `id` at `nowMs`. */
export function webhookHeaders(
  key: Buffer | null,
  id: string,
  nowMs: number,
  body: string,
): Record<string, string> {
  const timestampS = Math.floor(nowMs / 1000);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'cdc-alerts/0.1',
    [ID_HEADER]: id,
    [IDEMPOTENCY_HEADER]: id,
    [TIMESTAMP_HEADER]: String(timestampS),
  };
  if (key !== null) headers[SIGNATURE_HEADER] = sign(key, id, timestampS, body);
  return headers;
}

export async function postWebhook(
  url: string,
  alert: Alert,
  o: { secret: string | null; timeoutMs: number; signal: AbortSignal; now?: () => number },
): Promise<void> {
  const body = webhookBody(alert);
  const key = o.secret === null ? null : secretKey(o.secret);
  if (typeof key === 'string') throw new ConfigError(`the webhook secret ${key}`);
  const headers = webhookHeaders(key, idempotencyKey(alert), (o.now ?? Date.now)(), body);
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.any([o.signal, AbortSignal.timeout(o.timeoutMs)]),
    });
  } catch (err) {
    throw new UnavailableError('webhook', `webhook POST ${url}: ${errorMessage(err)}`, err);
  }
  // The answer's body is not needed; read it so the connection can be reused.
  await res.arrayBuffer().catch(() => undefined);
  if (res.status < 200 || res.status > 299) {
    throw new UnavailableError('webhook', `webhook POST ${url}: HTTP ${res.status}`);
  }
}
