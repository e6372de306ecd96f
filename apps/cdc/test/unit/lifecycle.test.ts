import { childShutdownTimeoutMs, exitDecision } from '../../src/supervisor';
import { verdict, type StatusReport } from '../../src/status/report';

describe('supervisor', () => {
  it('gives up on a child that exits 2 (bad config, a taken port): a restart cannot fix it', () => {
    expect(exitDecision(2, 100, 0)).toEqual({ action: 'give-up' });
  });
  it('restarts other exits with a growing backoff, reset after a minute of uptime', () => {
    expect(exitDecision(1, 100, 0)).toEqual({ action: 'restart', attempt: 1, delayMs: 2000 });
    expect(exitDecision(1, 100, 4)).toEqual({ action: 'restart', attempt: 5, delayMs: 30_000 });
    expect(exitDecision(null, 61_000, 4)).toEqual({ action: 'restart', attempt: 0, delayMs: 1000 });
  });
  it('children get a deadline a little shorter than the supervisor', () => {
    expect(childShutdownTimeoutMs(10_000)).toBe(8000);
    expect(childShutdownTimeoutMs(1000)).toBe(800);
    expect(childShutdownTimeoutMs(300)).toBe(500);
  });
});

describe('cdc status verdict', () => {
  const base = (): Omit<StatusReport, 'healthy' | 'reasons'> => ({
    generated_at: new Date(0).toISOString(),
    stack: {
      broker: { address: 'b:1', up: true, brokers: 1, version: null, error: null },
      registry: { url: 'http://r', up: true, version: null, error: null },
    },
    topics: [
      {
        role: 'bronze',
        name: 'b',
        exists: true,
        partitions: 3,
        retention_ms: -1,
        cleanup_policy: 'delete',
        earliest_retained_at: null,
        end_offsets: [0],
      },
    ],
    groups: [
      {
        stage: 'enricher',
        group: 'e',
        topic: 'b',
        state: 'Stable',
        members: 1,
        lag: 0,
        partitions: [],
        last_commit_at: null,
        oldest_waiting_at: null,
        wait_ms: 0,
      },
      {
        stage: 'backfill',
        group: 'bf',
        topic: 'b',
        state: 'Empty',
        members: 0,
        lag: 0,
        partitions: [],
        last_commit_at: null,
        oldest_waiting_at: null,
        wait_ms: 0,
      },
    ],
    aggregator: { db: 'x.db', batches: [], error: null },
    dead_letters: 0,
    freshness: { newest_event_at: null, event_age_ms: 1000 },
    backfill: null,
  });
  const limits = { maxWaitMs: 60_000 };

  it('healthy: no reasons', () => expect(verdict(base(), limits)).toEqual([]));
  it('a broker that does not answer says only that (nothing else can be known)', () => {
    const r = base();
    r.stack.broker.up = false;
    expect(verdict(r, limits)).toEqual(['the Kafka broker at b:1 does not answer']);
  });
  it('missing topics, a stage without members, records waiting too long, a database error', () => {
    const r = base();
    r.topics[0]!.exists = false;
    r.groups[0]!.members = 0;
    r.groups[0]!.wait_ms = 120_000;
    r.groups[0]!.lag = 7;
    r.aggregator.error = 'x.db does not exist';
    expect(verdict(r, limits)).toEqual([
      'topic b does not exist (cdc topics create)',
      'no enricher is running (group e has no members)',
      'aggregator database: x.db does not exist',
      'the enricher is behind: a record of b has waited 120 s (limit 60 s, lag 7)',
    ]);
  });
  it('old event times on a caught-up pipeline are shown, not judged; a backfill re-reading bronze is not behind', () => {
    const r = base();
    r.freshness.event_age_ms = 400 * 86_400_000;
    r.groups[1]!.wait_ms = 400 * 86_400_000;
    expect(verdict(r, limits)).toEqual([]);
  });
});
