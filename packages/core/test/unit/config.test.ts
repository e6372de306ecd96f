import { ConfigError, loadConnectionConfig, topicNames, topicSpecs } from '../../src';

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
  it('prefixes every topic and compacts only gold', () => {
    const names = topicNames('p.');
    expect(names).toEqual({
      bronze: 'p.movies.booking-changes.v1',
      silver: 'p.movies.booking-enriched.v1',
      deadLetter: 'p.movies.booking-changes.dlq',
      gold: 'p.movies.kpis.v1',
    });
    const policies = topicSpecs(names, 3).map(
      (s) => s.configEntries.find((e) => e.name === 'cleanup.policy')?.value,
    );
    expect(policies).toEqual(['delete', 'delete', 'delete', 'compact']);
  });
});
