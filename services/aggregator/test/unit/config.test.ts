import { ConfigError } from '@cdc/core';
import { loadAggregatorConfig } from '../../src';

describe('aggregator config', () => {
  test('defaults: the shared database path, ops port 9472, a group per topic prefix', () => {
    const c = loadAggregatorConfig({ TOPIC_PREFIX: 'p.' });
    expect(c).toMatchObject({
      dbPath: 'data/aggregator.db',
      opsPort: 9472,
      groupId: 'p.cdc-aggregator',
      publishGold: true,
    });
    expect(c.topics.silver).toBe('p.movies.booking-enriched.v1');
    expect(c.topics.gold).toBe('p.movies.kpis.v1');
  });

  test('bad settings stop at start, each named with what to fix', () => {
    expect(() =>
      loadAggregatorConfig({
        AGGREGATOR_OPS_PORT: '70000',
        AGGREGATOR_PUBLISH_GOLD: 'maybe',
        AGGREGATOR_DB_PATH: '',
      }),
    ).toThrow(ConfigError);
    const bad = () =>
      loadAggregatorConfig({ AGGREGATOR_OPS_PORT: '70000', AGGREGATOR_SESSION_TIMEOUT_MS: '5' });
    expect(bad).toThrow('AGGREGATOR_OPS_PORT="70000"');
    expect(bad).toThrow('AGGREGATOR_SESSION_TIMEOUT_MS="5"');
  });
});
