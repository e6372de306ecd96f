import { ConfigError } from '@cdc/core';
import { DEFAULT_RULES_FILE, loadRulesFile, parseRules } from '@cdc/alerts';

/** The rules file: the shipped defaults load; every problem names the file, line, column and field. */
const problems = (text: string): string => {
  try {
    parseRules(text, 'alerts.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).message;
  }
  throw new Error('expected the rules to be refused');
};

describe('rules file', () => {
  it('loads the shipped defaults: one rule of every type, durations in ms', () => {
    const rules = loadRulesFile(DEFAULT_RULES_FILE);
    expect(rules.map((r) => r.type)).toEqual([
      'cancellation_spike',
      'booking_surge',
      'booking_drop',
      'data_quality_low',
      'dead_letters',
      'pipeline_stale',
    ]);
    const spike = rules[0]!;
    expect(spike).toMatchObject({
      name: 'cancellation_spike',
      severity: 'warning',
      forMs: 30_000,
      keepFiringForMs: 60_000,
      windowMs: 120_000,
      metric: 'cancellations',
      direction: 'up',
      subjects: ['movies'],
      labels: { team: 'bookings' },
    });
    expect(rules[2]).toMatchObject({ direction: 'down', metric: 'bookings', minExpected: 100 });
  });

  it('fills in defaults and names rules after their type unless named', () => {
    const rules = parseRules(
      'rules:\n  - type: dead_letters\n    window: 5m\n  - type: dead_letters\n    name: dlq-fast\n    window: 30s\n    for: 1s\n',
      'x.yaml',
    );
    expect(rules).toEqual([
      {
        name: 'dead_letters',
        type: 'dead_letters',
        severity: 'warning',
        labels: {},
        forMs: 0,
        keepFiringForMs: 0,
        windowMs: 300_000,
        minCount: 1,
      },
      {
        name: 'dlq-fast',
        type: 'dead_letters',
        severity: 'warning',
        labels: {},
        forMs: 1000,
        keepFiringForMs: 0,
        windowMs: 30_000,
        minCount: 1,
      },
    ]);
  });

  it('refuses an unknown rule type, naming the line and the field', () => {
    expect(
      problems('rules:\n  - type: dead_letters\n    window: 1m\n  - type: cancellation_burst\n'),
    ).toContain('alerts.yaml:4:11: rules[1] type: unknown rule type "cancellation_burst"');
  });

  it('refuses a negative window, naming the line and the field', () => {
    const m = problems(
      'rules:\n  - type: cancellation_spike\n    window: -5m\n    min_count: 5\n    ratio: 3\n    clear_ratio: 1.5\n',
    );
    expect(m).toContain(
      "alerts.yaml:3:13: rules[0] (cancellation_spike) window: must be a positive window such as 30s or 5m (got '-5m')",
    );
  });

  it('refuses a line that is not YAML, naming the line', () => {
    expect(problems('rules:\n  - type: dead_letters\n    window: [1m\n')).toMatch(
      /^invalid rules file:\n {2}alerts\.yaml:\d+:\d+: not valid YAML/,
    );
    expect(problems('rules:\n  - type: x: y\n')).toContain('alerts.yaml:2:11: not valid YAML');
  });

  it('reports every problem at once: unknown fields, missing ones, contradictions, duplicate names', () => {
    const m = problems(
      [
        'rules:',
        '  - type: booking_surge',
        '    window: 3m',
        '    min_count: 10',
        '    ratio: 2',
        '    clear_ratio: 2.5',
        '    colour: red',
        '  - type: data_quality_low',
        '    below: 80',
        '  - type: dead_letters',
        '    window: 1m',
        '  - type: dead_letters',
        '    window: 2m',
        '  - type: pipeline_stale',
        '    max_lag: 100',
        '    max_freshness: 1m',
        '    severity: loud',
        '',
      ].join('\n'),
    );
    expect(m).toContain('alerts.yaml:7:5: rules[0] (booking_surge) colour: unknown field');
    expect(m).toContain('alerts.yaml:6:18: rules[0] (booking_surge) clear_ratio: must be below ratio');
    expect(m).toMatch(/alerts\.yaml:8:\d+: rules\[1\] \(data_quality_low\) clear_above: Required/);
    expect(m).toContain(
      "alerts.yaml:12:5: rules[3] (dead_letters) name: 'dead_letters' is also the name of rules[2]",
    );
    expect(m).toMatch(/alerts\.yaml:17:15: rules\[4\] \(pipeline_stale\) severity: Invalid enum value/);
  });

  it('refuses an empty file and an unknown time zone', () => {
    expect(problems('')).toContain('alerts.yaml:1:1: (file) rules: Required');
    expect(
      problems(
        'rules:\n  - type: booking_drop\n    window: 3m\n    min_expected: 10\n    ratio: 3\n    clear_ratio: 1.5\n    baseline: { kind: time_of_day, time_zone: Mars/Olympus }\n',
      ),
    ).toMatch(/alerts\.yaml:7:\d+: rules\[0\] \(booking_drop\) baseline\.time_zone: /);
  });

  it('names the file it cannot read', () => {
    expect(() => loadRulesFile('/nonexistent/alerts.yaml')).toThrow(
      /cannot read the rules file \/nonexistent\/alerts\.yaml/,
    );
  });
});
