import { Webhook } from 'standardwebhooks';
import type { Alert } from '@cdc/core';
import { checkWebhookUrl, idempotencyKey, secretKey, webhookBody, webhookHeaders } from '@cdc/alerts';

const alert: Alert = {
  alert_id: 'cancellation_spike/M012/1767614400000',
  rule: 'cancellation_spike',
  rule_type: 'cancellation_spike',
  subject: 'M012',
  movie_id: 'M012',
  status: 'FIRING',
  severity: 'warning',
  labels: { team: 'bookings' },
  summary: 'M012: 75 cancellations in 2m',
  value: 75,
  threshold: 52,
  baseline: 17.1,
  clock: 'EVENT',
  active_since: 1767614400000,
  fired_at: 1767614430000,
  resolved_at: null,
  transition_at: 1767614430100,
  sequence: 1,
};

describe('webhook payloads', () => {
  it('one idempotency key per transition; the body carries it and the record', () => {
    expect(idempotencyKey(alert)).toBe('cancellation_spike/M012/1767614400000:firing');
    expect(idempotencyKey({ ...alert, status: 'RESOLVED' })).toBe(
      'cancellation_spike/M012/1767614400000:resolved',
    );
    expect(JSON.parse(webhookBody(alert))).toEqual({
      idempotency_key: idempotencyKey(alert),
      status: 'firing',
      alert,
    });
  });

  // A fixed secret in the Standard Webhooks form (the bytes are arbitrary test data).
  const SECRET = `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`;
  const key = secretKey(SECRET) as Buffer;
  const verify = (body: string, headers: Record<string, string>) => new Webhook(SECRET).verify(body, headers);

  it('signs per Standard Webhooks: the stock verifier accepts it; the id is the idempotency key', () => {
    const body = webhookBody(alert);
    const headers = webhookHeaders(key, idempotencyKey(alert), Date.now(), body);
    expect(headers['webhook-id']).toBe(idempotencyKey(alert));
    expect(headers['idempotency-key']).toBe(idempotencyKey(alert));
    expect(headers['webhook-timestamp']).toMatch(/^\d{10}$/);
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(verify(body, headers)).toEqual(JSON.parse(body));
  });

  it('a tampered body, another id, an old timestamp or another secret does not verify', () => {
    const body = webhookBody(alert);
    const now = Date.now();
    const headers = webhookHeaders(key, idempotencyKey(alert), now, body);
    expect(() => verify(`${body} `, headers)).toThrow(/signature/i);
    expect(() => verify(body.replace('"value":75', '"value":76'), headers)).toThrow(/signature/i);
    expect(() => verify(body, { ...headers, 'webhook-id': 'x:firing' })).toThrow(/signature/i);
    // Signed correctly, but 10 minutes ago (the verifier allows 5): a replay.
    const old = webhookHeaders(key, idempotencyKey(alert), now - 600_000, body);
    expect(() => verify(body, old)).toThrow(/timestamp/i);
    const other = secretKey(`whsec_${Buffer.alloc(32, 7).toString('base64')}`) as Buffer;
    expect(() => verify(body, webhookHeaders(other, idempotencyKey(alert), now, body))).toThrow(/signature/i);
  });

  it('unsigned without a secret; a secret must be whsec_ and 24–64 bytes', () => {
    expect(webhookHeaders(null, 'a:firing', Date.now(), '{}')['webhook-signature']).toBeUndefined();
    expect(secretKey('0123456789abcdef0123456789')).toMatch(/must be whsec_/);
    expect(secretKey(`whsec_${Buffer.alloc(8).toString('base64')}`)).toMatch(/24–64 bytes, got 8/);
    expect(secretKey(SECRET)).toBeInstanceOf(Buffer);
  });

  it('webhook URLs must be http(s)', () => {
    expect(checkWebhookUrl('http://127.0.0.1:8080/hook', '--webhook')).toBe('http://127.0.0.1:8080/hook');
    expect(() => checkWebhookUrl('ftp://example.com/x', '--webhook')).toThrow(
      /--webhook: 'ftp:\/\/example.com\/x' is not an http\(s\) URL/,
    );
    expect(() => checkWebhookUrl('not a url', '--webhook')).toThrow(/is not a URL/);
  });
});
