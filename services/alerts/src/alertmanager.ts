import { errorMessage, UnavailableError, type Alert } from '@cdc/core';

/**
 * Alertmanager as a destination: each transition is POSTed to its v2 API (`/api/v2/alerts`) as
 * the alert operators expect (alertname, severity, movie_id, summary, startsAt/endsAt,
 * generatorURL), so its routing, grouping, silences and receivers (Slack, PagerDuty, e-mail)
 * apply. Alertmanager identifies an alert by its labels: the resolved post carries the same
 * labels as the firing one, with `endsAt` at the resolution.
 *
 * A firing alert is posted once (the outbox delivers each transition once) with `endsAt`
 * `FIRING_FOR_MS` ahead: Alertmanager would otherwise resolve it on its own after its
 * `resolve_timeout` (5 minutes by default), as it does for a Prometheus that stopped re-sending.
 */
export const FIRING_FOR_MS = 24 * 3_600_000;

export interface PostableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** The v2 API's alert for one transition (pure). Times are wall-clock: when it fired, when it resolved. */
export function alertmanagerAlert(a: Alert, generatorUrl: string): PostableAlert {
  const labels: Record<string, string> = {
    ...a.labels,
    alertname: a.rule,
    severity: a.severity,
    rule_type: a.rule_type,
    subject: a.subject,
    alert_id: a.alert_id,
    service: 'cdc-alerts',
  };
  if (a.movie_id !== null) labels.movie_id = a.movie_id;
  const annotations: Record<string, string> = {
    summary: a.summary,
    value: String(a.value),
    threshold: String(a.threshold),
    clock: a.clock,
  };
  if (a.baseline !== null) annotations.baseline = String(a.baseline);
  const resolved = a.status === 'RESOLVED';
  // How long it fired, on the rule's clock (event time may run faster than the wall clock).
  const firedForMs = resolved && a.resolved_at !== null ? Math.max(0, a.resolved_at - a.fired_at) : 0;
  const startsAt = a.clock === 'WALL' ? a.fired_at : a.transition_at - firedForMs;
  const url = new URL(generatorUrl);
  if (a.movie_id !== null) url.searchParams.set('movie', a.movie_id);
  return {
    labels,
    annotations,
    startsAt: iso(Math.min(startsAt, a.transition_at)),
    endsAt: iso(resolved ? a.transition_at : a.transition_at + FIRING_FOR_MS),
    generatorURL: url.toString(),
  };
}

/** POSTs one transition; a 2xx answer is a delivery, anything else throws (the dispatcher retries). */
export async function postAlertmanager(
  baseUrl: string,
  alert: Alert,
  o: { generatorUrl: string; timeoutMs: number; signal: AbortSignal },
): Promise<void> {
  const url = new URL('api/v2/alerts', baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`).toString();
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'cdc-alerts/0.1' },
      body: JSON.stringify([alertmanagerAlert(alert, o.generatorUrl)]),
      signal: AbortSignal.any([o.signal, AbortSignal.timeout(o.timeoutMs)]),
    });
  } catch (err) {
    throw new UnavailableError('alertmanager', `Alertmanager POST ${url}: ${errorMessage(err)}`, err);
  }
  const text = await res.text().catch(() => '');
  if (res.status < 200 || res.status > 299) {
    throw new UnavailableError(
      'alertmanager',
      `Alertmanager POST ${url}: HTTP ${res.status} ${text.slice(0, 200)}`,
    );
  }
}
