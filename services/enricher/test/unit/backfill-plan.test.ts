import {
  applyControl,
  backfillRecord,
  emptyControlState,
  enricherRecord,
  rangeProgress,
  settingsRecord,
  UsageError,
  type BackfillState,
  type ControlRecord,
  type DerivationSettings,
} from '@cdc/core';
import {
  commandOf,
  decideAction,
  estimateDuration,
  BENCHMARK_EVENTS_PER_SECOND,
  nextEpoch,
  planRanges,
  rangeRecords,
  targetOf,
  validateFrom,
  validateRequest,
} from '../../src/backfill/plan';
import { unacknowledged } from '../../src/backfill/switch';

const utc: DerivationSettings = {
  time_zone: 'UTC',
  rules_version: '1',
  epoch: 0,
  since: 1,
  set_by: 'enricher',
};
const stateOf = (...records: ControlRecord[]) => {
  const s = emptyControlState();
  for (const r of records) applyControl(s, r.key, r.value);
  return s;
};
const backfill = (over: Partial<BackfillState>): BackfillState => ({
  epoch: 1,
  time_zone: 'America/New_York',
  rules_version: '1',
  previous: utc,
  from: 'beginning',
  group_id: 'cdc-backfill.e1',
  status: 'RUNNING',
  partitions: [{ partition: 0, start: 0, end: 10 }],
  created_at: 1,
  range_captured_at: 2,
  finished_at: null,
  records: 0,
  run_records: 0,
  run_ms: 0,
  ...over,
});
const beginning = { kind: 'beginning' } as const;

describe('backfill: what to do', () => {
  it('starts a new backfill with the next epoch for a change of zone or rules', () => {
    const s = stateOf(settingsRecord(utc));
    expect(decideAction(s, { timeZone: 'America/New_York', from: beginning })).toEqual({
      kind: 'new',
      epoch: 1,
    });
    expect(targetOf(utc, { timeZone: 'Asia/Tokyo', from: beginning })).toEqual({
      time_zone: 'Asia/Tokyo',
      rules_version: '1',
    });
    // The epoch is above the settings' and every backfill's.
    const later = stateOf(
      settingsRecord({ ...utc, epoch: 3 }),
      backfillRecord(backfill({ epoch: 5, status: 'FINISHED' })),
    );
    expect(nextEpoch(later)).toBe(6);
  });

  it('refuses no change at all (exit 2), but says an identical finished backfill is done', () => {
    const s = stateOf(settingsRecord(utc));
    expect(() => decideAction(s, { from: beginning })).toThrow(UsageError);
    expect(() => decideAction(s, { timeZone: 'UTC', from: beginning })).toThrow(
      /nothing to do: the pipeline already derives with time zone UTC, rules 1, epoch 0/,
    );
    const done = backfill({ status: 'FINISHED' });
    const after = stateOf(
      settingsRecord({ ...utc, time_zone: 'America/New_York', epoch: 1 }),
      backfillRecord(done),
    );
    expect(decideAction(after, { timeZone: 'America/New_York', from: beginning })).toEqual({
      kind: 'finished',
      backfill: done,
    });
    expect(() =>
      decideAction(after, { timeZone: 'America/New_York', from: { kind: 'time', ms: 0 } }),
    ).toThrow(/nothing to do/);
  });

  it('re-derives with unchanged settings under a new epoch when asked to (--rederive), and resumes it', () => {
    const s = stateOf(settingsRecord(utc));
    expect(decideAction(s, { from: beginning, rederive: true })).toEqual({ kind: 'new', epoch: 1 });
    expect(() => decideAction(s, { from: beginning })).toThrow(/or add --rederive/);
    // Interrupted: the same command resumes it (also without the flag: same settings, same start).
    const running = backfill({ time_zone: 'UTC' });
    const interrupted = stateOf(settingsRecord({ ...utc, epoch: 1 }), backfillRecord(running));
    expect(decideAction(interrupted, { from: beginning, rederive: true })).toEqual({
      kind: 'resume',
      backfill: running,
    });
    // Finished: asked again, it is another re-derivation (the plan says so before --execute).
    const finished = stateOf(
      settingsRecord({ ...utc, epoch: 1 }),
      backfillRecord({ ...running, status: 'FINISHED' }),
    );
    expect(decideAction(finished, { from: beginning, rederive: true })).toEqual({ kind: 'new', epoch: 2 });
  });

  it('resumes an unfinished backfill given the same command, and refuses another one meanwhile', () => {
    const running = backfill({});
    const s = stateOf(
      settingsRecord({ ...utc, time_zone: 'America/New_York', epoch: 1 }),
      backfillRecord(running),
    );
    expect(decideAction(s, { timeZone: 'America/New_York', from: beginning })).toEqual({
      kind: 'resume',
      backfill: running,
    });
    expect(() => decideAction(s, { timeZone: 'Asia/Tokyo', from: beginning })).toThrow(
      /backfill epoch 1 .* is not finished: .*`cdc backfill --from-beginning --time-zone America\/New_York --rules-version 1 --execute` resumes it/,
    );
    expect(commandOf({ time_zone: 'UTC', rules_version: '1', from: '2025-09-03T10:00:00.000Z' })).toBe(
      '--from 2025-09-03T10:00:00.000Z --time-zone UTC --rules-version 1',
    );
  });

  it('takes the defaults when no settings are recorded yet', () => {
    expect(decideAction(emptyControlState(), { timeZone: 'Europe/Berlin', from: beginning })).toEqual({
      kind: 'new',
      epoch: 1,
    });
    expect(() => decideAction(emptyControlState(), { timeZone: 'UTC', from: beginning })).toThrow(
      /nothing to do/,
    );
  });
});

describe('backfill: input', () => {
  it('names the option of a bad zone or rules version', () => {
    expect(() => validateRequest({ timeZone: 'Mars/Base', from: beginning })).toThrow(
      /^--time-zone: unknown time zone/,
    );
    expect(() => validateRequest({ rulesVersion: '2', from: beginning })).toThrow(
      "--rules-version: rules version '2' does not exist (known: 1)",
    );
    expect(() =>
      validateRequest({ timeZone: 'Asia/Tokyo', rulesVersion: '1', from: beginning }),
    ).not.toThrow();
  });

  it('refuses a --from in the future, or before what bronze still holds where history was deleted', () => {
    const now = Date.UTC(2025, 8, 3, 12);
    const full = [{ partition: 0, earliest: 0, earliestTimestampMs: null }];
    expect(() => validateFrom(now + 1, now, full)).toThrow(
      /--from 2025-09-03T12:00:00.001Z is in the future/,
    );
    expect(() => validateFrom(0, now, full)).not.toThrow(); // all history kept: from the beginning
    const cut = [
      { partition: 0, earliest: 0, earliestTimestampMs: null },
      { partition: 1, earliest: 40, earliestTimestampMs: now - 1000 },
    ];
    expect(() => validateFrom(now - 2000, now, cut)).toThrow(
      /--from .* is before the earliest offset bronze still holds \(partition 1: offset 40/,
    );
    expect(() => validateFrom(now - 1000, now, cut)).not.toThrow();
  });
});

describe('backfill: ranges and progress', () => {
  const offsets = [
    { partition: 1, low: 5, high: 50 },
    { partition: 0, low: 0, high: 20 },
    { partition: 2, low: 0, high: 0 },
  ];

  it('runs from the earliest offset, or the offsets for --from, to the end offsets', () => {
    expect(planRanges(offsets, null)).toEqual([
      { partition: 0, start: 0, end: 20 },
      { partition: 1, start: 5, end: 50 },
      { partition: 2, start: 0, end: 0 },
    ]);
    // Offsets for a time never go below the earliest or past the end.
    const at = new Map([
      [0, 20],
      [1, 2],
      [2, 0],
    ]);
    expect(planRanges(offsets, at)).toEqual([
      { partition: 0, start: 20, end: 20 },
      { partition: 1, start: 5, end: 50 },
      { partition: 2, start: 0, end: 0 },
    ]);
    expect(rangeRecords(planRanges(offsets, null))).toBe(65);
  });

  it('counts progress from the committed offsets and is complete when every partition reached its end', () => {
    const ranges = planRanges(offsets, null);
    const none = rangeProgress(ranges, new Map());
    expect(none).toMatchObject({ done: 0, total: 65, complete: false });
    const some = rangeProgress(ranges, new Map([[1, 30]]));
    expect(some.done).toBe(25);
    expect(some.partitions[1]).toMatchObject({ committed: 30, done: 25, total: 45 });
    expect(
      rangeProgress(
        ranges,
        new Map([
          [0, 20],
          [1, 50],
        ]),
      ).complete,
    ).toBe(true);
  });

  it('estimates from the last measured backfill, else from the benchmark, and says which', () => {
    expect(estimateDuration(60_000, emptyControlState())).toMatchObject({
      ms: (60_000 * 1000) / BENCHMARK_EVENTS_PER_SECOND,
      source: expect.stringContaining('BENCHMARKS.md') as string,
    });
    const measured = stateOf(
      backfillRecord(backfill({ epoch: 1, status: 'FINISHED', run_records: 100_000, run_ms: 4000 })),
      backfillRecord(backfill({ epoch: 2, status: 'FINISHED', run_records: 10, run_ms: 1 })), // too small to measure
    );
    const e = estimateDuration(50_000, measured);
    expect(e.eventsPerSecond).toBe(25_000);
    expect(e.ms).toBe(2000);
    expect(e.source).toContain('measured by backfill epoch 1');
  });
});

describe('backfill: waiting for the live enrichers', () => {
  it('needs an acknowledgement of the epoch (or a newer one) from every current member, under its member id', () => {
    const members = [
      { groupId: 'g', memberId: 'm1', clientId: 'cdc', clientHost: 'h' },
      { groupId: 'g', memberId: 'm2', clientId: 'cdc', clientHost: 'h' },
      { groupId: 'g2', memberId: 'm3', clientId: 'cdc', clientHost: 'h' },
    ];
    const s = stateOf(
      enricherRecord({ group_id: 'g', instance_id: 'a', member_id: 'm1', epoch: 2, acked_at: 1 }),
      enricherRecord({ group_id: 'g', instance_id: 'b', member_id: 'm2', epoch: 1, acked_at: 1 }), // old epoch
      enricherRecord({ group_id: 'g2', instance_id: 'c', member_id: 'old-id', epoch: 2, acked_at: 1 }), // rejoined since
    );
    expect(unacknowledged(members, s.enrichers.values(), 2).map((m) => m.memberId)).toEqual(['m2', 'm3']);
    expect(unacknowledged([], s.enrichers.values(), 2)).toEqual([]);
  });
});
