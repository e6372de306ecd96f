import { emptyControlState, type BackfillState, type DerivationSettings } from '@cdc/core';
import { formatFinished, formatSeconds, formatStatus } from '../../src/backfill-format';

const utc: DerivationSettings = {
  time_zone: 'UTC',
  rules_version: '1',
  epoch: 0,
  since: 0,
  set_by: 'enricher g/e (first start)',
};
const running: BackfillState = {
  epoch: 1,
  time_zone: 'America/New_York',
  rules_version: '1',
  previous: utc,
  from: 'beginning',
  group_id: 'cdc-backfill.e1',
  status: 'RUNNING',
  partitions: [
    { partition: 0, start: 0, end: 100 },
    { partition: 1, start: 10, end: 60 },
  ],
  created_at: 0,
  range_captured_at: 1,
  finished_at: null,
  records: 0,
  run_records: 0,
  run_ms: 0,
};

describe('cdc backfill output', () => {
  it('shows the settings, the enrichers, and a running backfill with its progress and how to resume it', () => {
    const state = emptyControlState();
    state.enrichers.set('enricher/g/e', {
      group_id: 'g',
      instance_id: 'e',
      member_id: 'm',
      epoch: 1,
      acked_at: 0,
    });
    const text = formatStatus({
      settings: { ...utc, time_zone: 'America/New_York', epoch: 1 },
      enrichers: state.enrichers,
      liveMembers: [{ groupId: 'g', memberId: 'm', clientId: 'cdc', clientHost: 'h' }],
      backfills: [
        {
          state: running,
          progress: {
            partitions: [
              { partition: 0, start: 0, end: 100, committed: 40, done: 40, total: 100 },
              { partition: 1, start: 10, end: 60, committed: 10, done: 0, total: 50 },
            ],
            done: 40,
            total: 150,
            complete: false,
          },
        },
      ],
    });
    expect(text).toContain('settings: time zone America/New_York, rules 1, epoch 1');
    expect(text).toContain('enrichers:\n  g/e: epoch 1 (acknowledged 1970-01-01T00:00:00.000Z; running)');
    expect(text).toContain(
      'backfill epoch 1: RUNNING, time zone UTC, rules 1, epoch 0 -> time zone America/New_York, rules 1, epoch 1',
    );
    expect(text).toContain('  running: 40 / 150 events re-derived');
    expect(text).toContain('    partition 0: 40 / 100 (offsets 0..100, committed 40)');
    expect(text).toContain(
      '  resume: cdc backfill --from-beginning --time-zone America/New_York --rules-version 1 --execute',
    );
  });

  it('says what a finished backfill did and how fast', () => {
    const done = {
      ...running,
      status: 'FINISHED' as const,
      records: 150,
      run_records: 150_000,
      run_ms: 5000,
      finished_at: 9,
    };
    expect(formatFinished(done)).toBe(
      'backfill epoch 1 finished: 150 bronze records re-derived into silver (this run: 150,000 in 5.0 s, 30,000 events/s); ' +
        'the pipeline derives with time zone America/New_York, rules 1, epoch 1\n',
    );
    expect(formatSeconds(125_000)).toBe('2 min 5 s');
  });
});
