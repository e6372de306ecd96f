import {
  ConfigError,
  describeLoss,
  formatRetention,
  loadConnectionConfig,
  losesHistory,
  topicNames,
  topicSpecs,
} from '../../src';

describe('connection config', () => {
  it('has defaults for a local stack', () => {
    const c = loadConnectionConfig({});
    expect(c.brokers).toEqual(['127.0.0.1:9092']);
    expect(c.registryUrl).toBe('http://127.0.0.1:8081/apis/ccompat/v7');
    expect(c.topicPrefix).toBe('');
  });

  it('names every bad variable and what to fix', () => {
    let err: unknown;
    try {
      loadConnectionConfig({ KAFKA_BROKERS: 'localhost', SCHEMA_REGISTRY_URL: 'nope', TOPIC_PREFIX: 'a b' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const message = (err as Error).message;
    expect(message).toContain('KAFKA_BROKERS="localhost": must be a comma-separated list of host:port');
    expect(message).toContain('SCHEMA_REGISTRY_URL="nope"');
    expect(message).toContain('TOPIC_PREFIX="a b"');
  });
});

describe('topics', () => {
  it('prefixes every topic and compacts only gold, the control topic and the alerts topic', () => {
    const names = topicNames('p.');
    expect(names).toEqual({
      bronze: 'p.movies.booking-changes.v1',
      silver: 'p.movies.booking-enriched.v1',
      deadLetter: 'p.movies.booking-changes.dlq',
      gold: 'p.movies.kpis.v1',
      control: 'p.movies.pipeline-control.v1',
      alerts: 'p.movies.alerts.v1',
    });
    const policies = topicSpecs(names, 3).map(
      (s) => s.configEntries.find((e) => e.name === 'cleanup.policy')?.value,
    );
    expect(policies).toEqual(['delete', 'delete', 'delete', 'compact', 'compact', 'compact']);
    expect(topicSpecs(names, 3).find((s) => s.topic === names.control)?.numPartitions).toBe(1);
  });

  it('keeps the history of bronze and silver unless told otherwise', () => {
    const names = topicNames('p.');
    const retention = (specs: ReturnType<typeof topicSpecs>) =>
      Object.fromEntries(
        specs.map((s) => [s.topic, s.configEntries.find((e) => e.name === 'retention.ms')?.value]),
      );
    expect(retention(topicSpecs(names, 3))).toEqual({
      [names.bronze]: '-1',
      [names.silver]: '-1',
      [names.deadLetter]: undefined,
      [names.gold]: undefined,
      [names.control]: undefined,
      [names.alerts]: undefined,
    });
    const week = 7 * 86_400_000;
    const chosen = retention(topicSpecs(names, 3, { historyRetentionMs: week }));
    expect([chosen[names.bronze], chosen[names.silver]]).toEqual([String(week), String(week)]);
  });
});

describe('retention', () => {
  const r = (cleanupPolicy: string, retentionMs: number, retentionBytes = -1) => ({
    topic: 't',
    cleanupPolicy,
    retentionMs,
    retentionBytes,
  });

  it('tells a topic that deletes history from one that keeps it', () => {
    expect(losesHistory(r('delete', -1))).toBe(false);
    expect(losesHistory(r('delete', 604_800_000))).toBe(true);
    expect(losesHistory(r('delete', -1, 1_000_000))).toBe(true);
    expect(losesHistory(r('compact', 604_800_000))).toBe(false);
    expect(losesHistory(r('compact,delete', 604_800_000))).toBe(true);
  });

  it('says what such a topic keeps', () => {
    expect(describeLoss(r('delete', 604_800_000))).toBe('t keeps only 7 days (retention.ms=604800000)');
    expect(formatRetention(3_600_000)).toBe('1 hour');
    expect(formatRetention(90 * 60_000)).toBe('90 minutes');
    expect(formatRetention(1500)).toBe('1500 ms');
    expect(formatRetention(-1)).toBe('unlimited');
  });
});
