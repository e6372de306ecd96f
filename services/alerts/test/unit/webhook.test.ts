import type { Alert } from '@cdc/core';
import { checkWebhookUrl, idempotencyKey, sign, verifySignature, webhookBody } from '@cdc/alerts';

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

  it('signs "<timestamp>.<body>" with HMAC-SHA256; a changed body, timestamp or secret does not verify', () => {
    const body = webhookBody(alert);
    const sig = sign('0123456789abcdef', '1767614430100', body);
    expect(sig).toMatch(/^v1=[0-9a-f]{64}$/);
    expect(verifySignature('0123456789abcdef', '1767614430100', body, sig)).toBe(true);
    expect(verifySignature('0123456789abcdef', '1767614430101', body, sig)).toBe(false);
    expect(verifySignature('0123456789abcdeX', '1767614430100', body, sig)).toBe(false);
    expect(verifySignature('0123456789abcdef', '1767614430100', `${body} `, sig)).toBe(false);
    expect(verifySignature('0123456789abcdef', '1767614430100', body, 'v1=00')).toBe(false);
  });

  it('webhook URLs must be http(s)', () => {
    expect(checkWebhookUrl('http://127.0.0.1:8080/hook', '--webhook')).toBe('http://127.0.0.1:8080/hook');
    expect(() => checkWebhookUrl('ftp://example.com/x', '--webhook')).toThrow(
      /--webhook: 'ftp:\/\/example.com\/x' is not an http\(s\) URL/,
    );
    expect(() => checkWebhookUrl('not a url', '--webhook')).toThrow(/is not a URL/);
  });
});
