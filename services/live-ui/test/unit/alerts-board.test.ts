import type { Alert } from '@cdc/core';
import { AlertsBoard } from '../../src/alerts-board';

const alert = (id: string, status: Alert['status'], at: number, o: Partial<Alert> = {}): Alert => ({
  alert_id: id,
  rule: 'cancellation_spike',
  rule_type: 'cancellation_spike',
  subject: 'M001',
  movie_id: 'M001',
  status,
  severity: 'warning',
  labels: {},
  summary: '',
  value: null,
  threshold: null,
  baseline: null,
  clock: 'EVENT',
  active_since: 0,
  fired_at: 0,
  resolved_at: status === 'RESOLVED' ? at : null,
  transition_at: at,
  sequence: status === 'RESOLVED' ? 2 : 1,
  ...o,
});

describe('alerts board', () => {
  it('keeps the newest transition per alert; a re-delivered firing never undoes a resolve', () => {
    const b = new AlertsBoard();
    expect(b.apply('a', alert('a', 'FIRING', 1))).toBe(true);
    expect(b.apply('a', alert('a', 'RESOLVED', 2))).toBe(true);
    expect(b.apply('a', alert('a', 'FIRING', 1))).toBe(false);
    expect(b.list().map((a) => a.status)).toEqual(['RESOLVED']);
    expect(b.apply('a', null)).toBe(true);
    expect(b.list()).toEqual([]);
  });

  it('filters by status, rule, movie and severity; newest first; limit', () => {
    const b = new AlertsBoard();
    b.apply('a', alert('a', 'FIRING', 1));
    b.apply(
      'b',
      alert('b', 'FIRING', 3, { rule: 'booking_surge', subject: 'M002', movie_id: 'M002', severity: 'info' }),
    );
    b.apply('c', alert('c', 'RESOLVED', 2, { rule: 'dead_letters', subject: 'pipeline', movie_id: null }));
    expect(b.list().map((a) => a.alert_id)).toEqual(['b', 'c', 'a']);
    expect(b.firing().map((a) => a.alert_id)).toEqual(['b', 'a']);
    expect(b.list({ status: 'resolved' }).map((a) => a.alert_id)).toEqual(['c']);
    expect(b.list({ movie: ['M001', 'M002'] }).map((a) => a.alert_id)).toEqual(['b', 'a']);
    expect(b.list({ rule: ['dead_letters'] }).map((a) => a.alert_id)).toEqual(['c']);
    expect(b.list({ severity: ['info'] }).map((a) => a.alert_id)).toEqual(['b']);
    expect(b.list({ limit: 1 }).map((a) => a.alert_id)).toEqual(['b']);
  });

  it('keeps at most maxResolved resolved alerts, dropping the oldest', () => {
    const b = new AlertsBoard(2);
    for (let i = 1; i <= 4; i++) b.apply(`r${i}`, alert(`r${i}`, 'RESOLVED', i));
    b.apply('f', alert('f', 'FIRING', 0));
    expect(b.list().map((a) => a.alert_id)).toEqual(['r4', 'r3', 'f']);
  });
});
