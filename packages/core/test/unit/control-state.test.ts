import {
  applyControl,
  backfillRecord,
  describeDerivation,
  emptyControlState,
  enricherGroups,
  enricherRecord,
  latestBackfill,
  loadSchema,
  sameDerivation,
  settingsRecord,
  type BackfillState,
  type DerivationSettings,
} from '../../src';

const utc: DerivationSettings = { time_zone: 'UTC', rules_version: '1', epoch: 0, since: 1, set_by: 'test' };
const ny: DerivationSettings = { ...utc, time_zone: 'America/New_York', epoch: 1, since: 2 };
const backfill = (epoch: number, status: BackfillState['status'] = 'RUNNING'): BackfillState => ({
  epoch,
  time_zone: 'America/New_York',
  rules_version: '1',
  previous: utc,
  from: 'beginning',
  group_id: `cdc-backfill.e${epoch}`,
  status,
  partitions: [{ partition: 0, start: 0, end: epoch === 1 ? 10 : -1 }],
  created_at: 5,
  range_captured_at: null,
  finished_at: null,
  records: 0,
  run_records: 0,
  run_ms: 0,
});

describe('control state', () => {
  it('keeps the latest settings, every enricher acknowledgement and every backfill', () => {
    const state = emptyControlState();
    for (const r of [
      settingsRecord(utc),
      enricherRecord({ group_id: 'g', instance_id: 'a', member_id: 'm1', epoch: 0, acked_at: 1 }),
      enricherRecord({ group_id: 'g2', instance_id: 'b', member_id: 'm2', epoch: 0, acked_at: 1 }),
      backfillRecord(backfill(1)),
      settingsRecord(ny),
      enricherRecord({ group_id: 'g', instance_id: 'a', member_id: 'm1', epoch: 1, acked_at: 3 }),
      backfillRecord(backfill(2, 'SWITCHING')),
    ]) {
      applyControl(state, r.key, r.value);
    }
    expect(state.settings).toEqual(ny);
    expect(state.enrichers.get('enricher/g/a')?.epoch).toBe(1);
    expect(enricherGroups(state)).toEqual(['g', 'g2']);
    expect(latestBackfill(state)?.epoch).toBe(2);
    expect([...state.backfills.keys()]).toEqual([1, 2]);
  });

  it('forgets a key on a tombstone and ignores keys it does not know', () => {
    const state = emptyControlState();
    applyControl(state, 'derivation-settings', settingsRecord(utc).value);
    applyControl(state, 'backfill/1', backfillRecord(backfill(1)).value);
    applyControl(state, 'something-newer/x', settingsRecord(ny).value);
    expect(state.settings).toEqual(utc);
    applyControl(state, 'backfill/1', null);
    applyControl(state, 'derivation-settings', null);
    expect(state.settings).toBeNull();
    expect(latestBackfill(state)).toBeNull();
  });

  it('compares derivations by time zone and rules version only', () => {
    expect(sameDerivation(utc, { ...ny, time_zone: 'UTC' })).toBe(true);
    expect(sameDerivation(utc, ny)).toBe(false);
    expect(sameDerivation(utc, { ...utc, rules_version: '2' })).toBe(false);
    expect(describeDerivation(ny)).toBe('time zone America/New_York, rules 1, epoch 1');
    expect(describeDerivation({ time_zone: 'UTC', rules_version: '1' })).toBe('time zone UTC, rules 1');
  });

  it('writes records the PipelineControl schema accepts, one kind each', () => {
    const { type } = loadSchema('PipelineControl');
    for (const r of [
      settingsRecord(utc),
      enricherRecord({ group_id: 'g', instance_id: 'a', member_id: '', epoch: 0, acked_at: 1 }),
      backfillRecord(backfill(1)),
    ]) {
      expect(type.isValid(r.value)).toBe(true);
      expect(Object.values(r.value!).filter((v) => v !== null)).toHaveLength(1);
    }
  });
});
