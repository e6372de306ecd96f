import type { Verdict } from './evaluate';

/**
 * One alert's lifecycle, as in Alertmanager: pending → firing → resolved, with hysteresis. Pure.
 *
 * - inactive + breach → pending since now (firing at once when `for` is 0);
 * - pending: firing once the condition has held `for` (a `hold` keeps it pending; `clear` drops it,
 *   silently: a pending alert was never notified);
 * - firing: resolved once `clear` has lasted `keep_firing_for` (a `breach` or `hold` restarts that);
 * - `unknown` (no data to judge) changes nothing.
 *
 * The alert id is fixed when the alert becomes pending: `<rule>/<subject>/<active since>`.
 */
export interface AlertState {
  rule: string;
  subject: string;
  phase: 'pending' | 'firing';
  alertId: string;
  activeSince: number;
  firedAt: number | null;
  /** Since when the condition is clear (firing alerts), or null. */
  clearSince: number | null;
  /** The verdict that made it fire (kept for the resolved notification's context). */
  firedWith: Pick<Verdict, 'value' | 'threshold' | 'baseline' | 'summary'> | null;
}

export type Transition =
  | { kind: 'fired'; state: AlertState; verdict: Verdict; at: number }
  | { kind: 'resolved'; state: AlertState; verdict: Verdict; at: number };

export interface Timing {
  forMs: number;
  keepFiringForMs: number;
}

export function alertId(rule: string, subject: string, activeSince: number): string {
  return `${rule}/${subject}/${activeSince}`;
}

export function step(
  prev: AlertState | null,
  v: Verdict,
  now: number,
  t: Timing,
  key: { rule: string; subject: string },
): { state: AlertState | null; transition: Transition | null } {
  if (v.state === 'unknown') return { state: prev, transition: null };

  if (prev === null) {
    if (v.state !== 'breach') return { state: null, transition: null };
    const pending: AlertState = {
      ...key,
      phase: 'pending',
      alertId: alertId(key.rule, key.subject, now),
      activeSince: now,
      firedAt: null,
      clearSince: null,
      firedWith: null,
    };
    return t.forMs === 0 ? fire(pending, v, now) : { state: pending, transition: null };
  }

  if (prev.phase === 'pending') {
    if (v.state === 'clear') return { state: null, transition: null };
    if (v.state === 'breach' && now - prev.activeSince >= t.forMs) return fire(prev, v, now);
    return { state: prev, transition: null };
  }

  // firing
  if (v.state !== 'clear') {
    return { state: prev.clearSince === null ? prev : { ...prev, clearSince: null }, transition: null };
  }
  const clearSince = prev.clearSince ?? now;
  if (now - clearSince >= t.keepFiringForMs) {
    return {
      state: null,
      transition: { kind: 'resolved', state: { ...prev, clearSince }, verdict: v, at: now },
    };
  }
  return { state: prev.clearSince === clearSince ? prev : { ...prev, clearSince }, transition: null };
}

function fire(s: AlertState, v: Verdict, now: number): { state: AlertState; transition: Transition } {
  const firing: AlertState = {
    ...s,
    phase: 'firing',
    firedAt: now,
    clearSince: null,
    firedWith: { value: v.value, threshold: v.threshold, baseline: v.baseline, summary: v.summary },
  };
  return { state: firing, transition: { kind: 'fired', state: firing, verdict: v, at: now } };
}
