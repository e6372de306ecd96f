import type { MovieKpis } from '@cdc/core';
import { GoldState, type MovieRow } from '../../src/gold-state';
import { VersionLog } from '../../src/version-log';

const movie = (key: string, version: number, extra: Partial<MovieKpis> = {}): MovieRow =>
  ({
    movie_key: key,
    movie_id: key,
    snapshot_version: version,
    updated_at: version,
    last_event_ts_ms: version * 10,
    ...extra,
  }) as MovieRow;

const append = (log: VersionLog, movies: MovieRow[], removed: string[] = []) =>
  log.append({ movies, removed, maxEventTsMs: Math.max(0, ...movies.map((m) => m.last_event_ts_ms)) });

describe('VersionLog', () => {
  it('numbers batches consecutively', () => {
    const log = new VersionLog(10, 100);
    const a = append(log, [movie('M1', 1)]);
    const b = append(log, [movie('M2', 2)]);
    expect([a.from, a.version, b.from, b.version, log.version]).toEqual([0, 1, 1, 2, 2]);
  });

  it('merges what a client missed: newest snapshot per movie, removals, no repeats', () => {
    const log = new VersionLog(10, 100);
    append(log, [movie('M1', 1)]);
    append(log, [movie('M2', 2), movie('M3', 2)]);
    append(log, [movie('M2', 3)], ['M3']);
    append(log, [movie('M4', 4)]);
    const missed = log.since(1)!;
    expect(missed.from).toBe(1);
    expect(missed.version).toBe(4);
    expect(missed.movies.map((m) => [m.movie_key, m.snapshot_version])).toEqual([
      ['M2', 3],
      ['M4', 4],
    ]);
    expect(missed.removed).toEqual(['M3']);
    expect(missed.maxEventTsMs).toBe(40);
    expect(log.since(4)!.movies).toEqual([]);
    expect(log.since(5)).toBeNull();
  });

  it('a movie removed and then re-created is sent, not removed', () => {
    const log = new VersionLog(10, 100);
    append(log, [], ['M1']);
    append(log, [movie('M1', 2)]);
    const missed = log.since(0)!;
    expect(missed.movies.map((m) => m.movie_key)).toEqual(['M1']);
    expect(missed.removed).toEqual([]);
  });

  it('evicts beyond its bounds and then answers too old', () => {
    const log = new VersionLog(3, 100);
    for (let v = 1; v <= 5; v += 1) append(log, [movie(`M${v}`, v)]);
    expect(log.floor).toBe(2);
    expect(log.length).toBe(3);
    expect(log.since(1)).toBeNull();
    expect(log.since(2)!.movies.map((m) => m.movie_key)).toEqual(['M3', 'M4', 'M5']);

    const small = new VersionLog(100, 3);
    append(small, [movie('A', 1), movie('B', 1)]);
    append(small, [movie('C', 2), movie('D', 2)]);
    expect(small.floor).toBe(1);
    expect(small.since(0)).toBeNull();
    expect(small.since(1)!.movies.map((m) => m.movie_key)).toEqual(['C', 'D']);
  });

  it('keeps working over many evictions (compaction of its array)', () => {
    const log = new VersionLog(5, 1000);
    for (let v = 1; v <= 5000; v += 1) append(log, [movie(`M${v % 7}`, v)]);
    expect(log.length).toBe(5);
    expect(log.floor).toBe(4995);
    expect(
      log
        .since(4997)!
        .movies.map((m) => m.snapshot_version)
        .sort(),
    ).toEqual([4998, 4999, 5000]);
  });

  it('plans a resume: snapshot, up to date, or the missed changes', () => {
    const log = new VersionLog(2, 100);
    append(log, [movie('M1', 1)]);
    append(log, [movie('M2', 2)]);
    append(log, [movie('M3', 3)]);
    expect(log.plan({}, 'e1')).toEqual({ kind: 'snapshot', reason: 'new' });
    expect(log.plan({ since: 3, epoch: 'e0' }, 'e1')).toEqual({ kind: 'snapshot', reason: 'other-epoch' });
    expect(log.plan({ since: 9, epoch: 'e1' }, 'e1')).toEqual({ kind: 'snapshot', reason: 'ahead' });
    expect(log.plan({ since: 3, epoch: 'e1' }, 'e1')).toEqual({ kind: 'up-to-date' });
    expect(log.plan({ since: 0, epoch: 'e1' }, 'e1')).toEqual({ kind: 'snapshot', reason: 'too-old' });
    const plan = log.plan({ since: 1, epoch: 'e1' }, 'e1');
    expect(plan.kind === 'changes' && plan.batch.movies.map((m) => m.movie_key)).toEqual(['M2', 'M3']);
  });
});

describe('GoldState', () => {
  const kpis = (id: string, version: number, updatedAt = version * 100) =>
    ({
      movie_id: id,
      snapshot_version: version,
      updated_at: updatedAt,
      last_event_ts_ms: updatedAt - 5,
      total_bookings: 2,
      valid_bookings: 1,
    }) as MovieKpis;

  it('coalesces updates per movie until taken, and publishes them only then', () => {
    const s = new GoldState();
    expect(s.apply('M1', kpis('M1', 1), 100)).toBe(true);
    expect(s.apply('M1', kpis('M1', 2), 110)).toBe(true);
    expect(s.apply('M2', kpis('M2', 3), 120)).toBe(true);
    expect(s.snapshot()).toEqual([]);
    const p = s.takePending();
    expect(p.movies.map((m) => [m.movie_key, m.snapshot_version])).toEqual([
      ['M1', 2],
      ['M2', 3],
    ]);
    expect(p.firstReceivedAtMs).toBe(100);
    expect(p.maxEventTsMs).toBe(295);
    expect(s.snapshot().map((m) => m.movie_key)).toEqual(['M1', 'M2']);
    expect(s.hasPending).toBe(false);
  });

  it('ignores the same snapshot delivered twice, lets the last one win otherwise', () => {
    const s = new GoldState();
    s.apply('M1', kpis('M1', 5), 1);
    s.takePending();
    expect(s.apply('M1', kpis('M1', 5), 2)).toBe(false);
    expect(s.hasPending).toBe(false);
    // A rebuilt aggregator may restart its versions: the newer record on the partition wins.
    expect(s.apply('M1', kpis('M1', 1, 900), 3)).toBe(true);
    expect(s.takePending().movies[0]!.snapshot_version).toBe(1);
  });

  it('handles tombstones, including for a movie never published', () => {
    const s = new GoldState();
    s.apply('M1', kpis('M1', 1), 1);
    s.takePending();
    s.apply('M2', kpis('M2', 2), 2);
    expect(s.apply('M1', null, 3)).toBe(true);
    expect(s.apply('M2', null, 3)).toBe(true);
    expect(s.apply('M3', null, 3)).toBe(false);
    const p = s.takePending();
    expect(p.removed).toEqual(['M1']);
    expect(p.movies).toEqual([]);
    expect(s.size).toBe(0);
  });

  it('tracks freshness and the data-quality score', () => {
    const s = new GoldState();
    expect(s.dataQualityScore()).toBeNull();
    s.apply('M1', kpis('M1', 1, 1000), 1);
    s.apply('M2', { ...kpis('M2', 2, 2000), total_bookings: 1, valid_bookings: 1 }, 1);
    s.takePending();
    expect(s.lastChangeAtMs).toBe(2000);
    expect(s.lastEventTsMs).toBe(1995);
    expect(s.lastApplyLagMs).toBe(5);
    expect(s.dataQualityScore()).toBe(66.67);
  });
});
