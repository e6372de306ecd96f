import { createHmac, timingSafeEqual } from 'node:crypto';
import { errorMessage, UnavailableError, type Alert } from '@cdc/core';
import { idempotencyKey } from './engine/record';

/**
 * Webhook notifications: one JSON POST per transition.
 *
 * Headers:
 * - `Idempotency-Key: <alert id>:<firing|resolved>` — the same on every retry of a transition, so a
 *   receiver that remembers the keys it accepted sees each transition at most once;
 * - `X-Cdc-Timestamp: <epoch ms of this attempt>` and, with a secret,
 *   `X-Cdc-Signature: v1=<hex HMAC-SHA256 of "<timestamp>.<body>">` — the receiver recomputes it
 *   with the shared secret (`verifySignature`) and may refuse old timestamps (replays).
 *
 * Body: `{ "idempotency_key", "status": "firing" | "resolved", "alert": <the Alert record> }`.
 * A 2xx answer is a delivery; anything else (a refused connection, a timeout, any other status)
 * is retried by the dispatcher.
 */
export const SIGNATURE_HEADER = 'x-cdc-signature';
export const TIMESTAMP_HEADER = 'x-cdc-timestamp';
export const IDEMPOTENCY_HEADER = 'idempotency-key';

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

export function sign(secret: string, timestamp: string, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** For receivers (and tests): whether `signature` is `sign(secret, timestamp, body)`, in constant time. */
export function verifySignature(secret: string, timestamp: string, body: string, signature: string): boolean {
  const expected = Buffer.from(sign(secret, timestamp, body));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

export async function postWebhook(
  url: string,
  alert: Alert,
  o: { secret: string | null; timeoutMs: number; signal: AbortSignal; now?: () => number },
): Promise<void> {
  const body = webhookBody(alert);
  const timestamp = String((o.now ?? Date.now)());
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'cdc-alerts/0.1',
    [IDEMPOTENCY_HEADER]: idempotencyKey(alert),
    [TIMESTAMP_HEADER]: timestamp,
  };
  if (o.secret !== null) headers[SIGNATURE_HEADER] = sign(o.secret, timestamp, body);
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
