import type { Alert } from '@cdc/core';

/**
 * The alerts the dashboard shows, from the alerts topic (written by `cdc alerts`): the newest
 * transition of every alert (firing, or resolved), newest first. Pure: records in, lists out.
 * Resolved alerts are kept (the panel's history, greyed) up to `maxResolved`, the oldest dropped.
 */
export interface AlertsQuery {
  status?: 'firing' | 'resolved';
  rule?: string[];
  movie?: string[];
  severity?: ('info' | 'warning' | 'critical')[];
  limit?: number;
}

export class AlertsBoard {
  private readonly alerts = new Map<string, Alert>();

  constructor(private readonly maxResolved = 500) {}

  /** Applies a record (null: a tombstone); true when the board changed. */
  apply(id: string, a: Alert | null): boolean {
    if (a === null) return this.alerts.delete(id);
    const prev = this.alerts.get(id);
    // A transition never goes back: resolved (2) wins over a re-delivered firing (1).
    if (prev && prev.sequence > a.sequence) return false;
    this.alerts.set(id, a);
    if (a.status === 'RESOLVED') this.trim();
    return true;
  }

  firing(): Alert[] {
    return this.list({ status: 'firing' });
  }

  list(q: AlertsQuery = {}): Alert[] {
    const out = [...this.alerts.values()].filter(
      (a) =>
        (q.status === undefined || a.status === (q.status === 'firing' ? 'FIRING' : 'RESOLVED')) &&
        (q.rule === undefined || q.rule.includes(a.rule)) &&
        (q.movie === undefined || (a.movie_id !== null && q.movie.includes(a.movie_id))) &&
        (q.severity === undefined || (q.severity as string[]).includes(a.severity)),
    );
    out.sort((x, y) => y.transition_at - x.transition_at || (x.alert_id < y.alert_id ? -1 : 1));
    return q.limit === undefined ? out : out.slice(0, q.limit);
  }

  private trim(): void {
    const resolved = [...this.alerts.values()].filter((a) => a.status === 'RESOLVED');
    if (resolved.length <= this.maxResolved) return;
    resolved.sort((x, y) => x.transition_at - y.transition_at);
    for (const a of resolved.slice(0, resolved.length - this.maxResolved)) this.alerts.delete(a.alert_id);
  }
}
