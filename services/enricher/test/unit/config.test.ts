import { ConfigError } from '@cdc/core';
import { loadEnricherConfig } from '../../src/config';
import { GroupState } from '../../src/group-state';

describe('enricher config', () => {
  it('has defaults; the transactional id is stable per instance and group', () => {
    const c = loadEnricherConfig({ TOPIC_PREFIX: 'p.' });
    expect(c).toMatchObject({
      instanceId: 'enricher-0',
      groupId: 'p.cdc-enricher',
      transactionalId: 'p.cdc-enricher.enricher-0',
      timeZone: undefined,
      opsPort: 9471,
    });
    expect(c.topics.bronze).toBe('p.movies.booking-changes.v1');
    const other = loadEnricherConfig({ TOPIC_PREFIX: 'p.', ENRICHER_INSTANCE_ID: 'enricher-1' });
    expect(other.transactionalId).toBe('p.cdc-enricher.enricher-1');
  });

  it('stops on a bad time zone, naming the setting and what to use', () => {
    expect(() => loadEnricherConfig({ ENRICHER_TIME_ZONE: 'Europe/Atlantis' })).toThrow(ConfigError);
    expect(() => loadEnricherConfig({ ENRICHER_TIME_ZONE: 'Europe/Atlantis' })).toThrow(
      /ENRICHER_TIME_ZONE="Europe\/Atlantis": unknown time zone .*IANA name/,
    );
    expect(loadEnricherConfig({ ENRICHER_TIME_ZONE: 'Asia/Kolkata' }).timeZone).toBe('Asia/Kolkata');
  });

  it('names every bad setting', () => {
    let message = '';
    try {
      loadEnricherConfig({
        ENRICHER_OPS_PORT: '70000',
        ENRICHER_INSTANCE_ID: 'a b',
        ENRICHER_CHUNK_RECORDS: 'many',
      });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('ENRICHER_OPS_PORT="70000"');
    expect(message).toContain('ENRICHER_INSTANCE_ID="a b"');
    expect(message).toContain('ENRICHER_CHUNK_RECORDS="many"');
  });

  it('checks that heartbeats fit in the session timeout', () => {
    expect(() =>
      loadEnricherConfig({ ENRICHER_SESSION_TIMEOUT_MS: '6000', ENRICHER_HEARTBEAT_INTERVAL_MS: '3000' }),
    ).toThrow(/ENRICHER_HEARTBEAT_INTERVAL_MS=3000/);
  });
});

describe('group state', () => {
  it('owns a unit only in the generation it was fetched in, for an assigned partition, outside a rebalance', () => {
    const s = new GroupState(() => Promise.resolve(-1));
    s.joined({ bronze: [0, 2] });
    expect(s.isOwned({ topic: 'bronze', partition: 0, generation: 1 })).toBe(true);
    expect(s.isOwned({ topic: 'bronze', partition: 1, generation: 1 })).toBe(false);
    s.markRebalancing();
    expect(s.isOwned({ topic: 'bronze', partition: 0, generation: 1 })).toBe(false);
    s.joined({ bronze: [0] });
    expect(s.isOwned({ topic: 'bronze', partition: 0, generation: 1 })).toBe(false);
    expect(s.isOwned({ topic: 'bronze', partition: 0, generation: 2 })).toBe(true);
  });

  it('starts a partition at the larger of the broker committed offset and its own, once per generation', async () => {
    let broker = 10;
    let calls = 0;
    const s = new GroupState(() => {
      calls += 1;
      return Promise.resolve(broker);
    });
    s.joined({ t: [0] });
    s.noteCommitted('t', 0, 25); // our transaction's offsets are not visible yet
    expect(await s.startOffset('t', 0)).toBe(25);
    broker = 40; // someone else moved it on
    expect(await s.startOffset('t', 0)).toBe(25); // cached for this generation
    s.invalidate('t', 0);
    expect(await s.startOffset('t', 0)).toBe(40);
    s.joined({ t: [0] });
    expect(await s.startOffset('t', 0)).toBe(40);
    expect(calls).toBe(3);
  });
});
