import type { Alert } from '@cdc/core';
import { ruleClock, type Rule } from '../rules/types';
import { PIPELINE } from './state';
import type { Transition } from './lifecycle';

/**
 * A transition as the Avro `Alert` record (schemas/Alert.avsc) that goes to the alerts topic,
 * and as the webhook's JSON body. Pure.
 */
export function alertRecord(rule: Rule, t: Transition, wallMs: number): Alert {
  const s = t.state;
  const resolved = t.kind === 'resolved';
  return {
    alert_id: s.alertId,
    rule: rule.name,
    rule_type: rule.type,
    subject: s.subject,
    movie_id: s.subject === PIPELINE ? null : s.subject,
    status: resolved ? 'RESOLVED' : 'FIRING',
    severity: rule.severity,
    labels: { ...rule.labels },
    summary: t.verdict.summary,
    value: t.verdict.value,
    threshold: t.verdict.threshold,
    baseline: t.verdict.baseline,
    clock: ruleClock(rule),
    active_since: s.activeSince,
    fired_at: s.firedAt ?? t.at,
    resolved_at: resolved ? t.at : null,
    transition_at: wallMs,
    sequence: resolved ? 2 : 1,
  };
}

/** The webhook idempotency key of a transition: the same on every retry, unique per transition. */
export const idempotencyKey = (a: Pick<Alert, 'alert_id' | 'status'>): string =>
  `${a.alert_id}:${a.status.toLowerCase()}`;
