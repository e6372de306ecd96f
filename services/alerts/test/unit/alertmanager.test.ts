import type { Alert } from '@cdc/core';
import { alertmanagerAlert, FIRING_FOR_MS } from '../../src/alertmanager';

const T = Date.parse('2026-12-07T20:00:00Z');
const firing: Alert = {
  alert_id: `cancellation_spike/M012/${T}`,
  rule: 'cancellation_spike',
  rule_type: 'cancellation_spike',
  subject: 'M012',
  movie_id: 'M012',
  status: 'FIRING',
  severity: 'critical',
  labels: { team: 'box-office' },
  summary: 'M012: 40 cancellations in 5 min',
  value: 40,
  threshold: 10,
  baseline: null,
  clock: 'EVENT',
  active_since: T - 600_000,
  fired_at: T - 300_000,
  resolved_at: null,
  transition_at: T,
  sequence: 1,
};

describe('alertmanagerAlert', () => {
  it('a firing transition: labels to route on, annotations, wall-clock times, a link to the movie', () => {
    expect(alertmanagerAlert(firing, 'http://dash:8080/')).toEqual({
      labels: {
        team: 'box-office',
        alertname: 'cancellation_spike',
        severity: 'critical',
        rule_type: 'cancellation_spike',
        subject: 'M012',
        alert_id: firing.alert_id,
        service: 'cdc-alerts',
        movie_id: 'M012',
      },
      annotations: { summary: firing.summary, value: '40', threshold: '10', clock: 'EVENT' },
      startsAt: new Date(T).toISOString(),
      endsAt: new Date(T + FIRING_FOR_MS).toISOString(),
      generatorURL: 'http://dash:8080/?movie=M012',
    });
  });

  it('a resolved transition has the same labels and ends at the resolution; a pipeline alert has no movie_id', () => {
    const resolved = alertmanagerAlert(
      { ...firing, status: 'RESOLVED', resolved_at: T + 60_000, transition_at: T + 5000, sequence: 2 },
      'http://dash:8080/',
    );
    expect(resolved.labels).toEqual(alertmanagerAlert(firing, 'http://dash:8080/').labels);
    expect(resolved.endsAt).toBe(new Date(T + 5000).toISOString());
    expect(Date.parse(resolved.startsAt)).toBeLessThan(Date.parse(resolved.endsAt));
    const pipeline = alertmanagerAlert(
      { ...firing, subject: 'pipeline', movie_id: null, clock: 'WALL', fired_at: T - 1000 },
      'http://dash:8080/',
    );
    expect(pipeline.labels.movie_id).toBeUndefined();
    expect(pipeline.startsAt).toBe(new Date(T - 1000).toISOString());
    expect(pipeline.generatorURL).toBe('http://dash:8080/');
  });
});
