import type { BackfillState, DerivationSettings, EnricherAck, PipelineControl } from '../types';

/**
 * The pipeline's state as the compacted control topic holds it, and the pure rules to fold its
 * records into it. Keys:
 *   `derivation-settings`          the DerivationSettings in force (time zone, rules version, epoch)
 *   `enricher/<group>/<instance>`  an enricher instance's EnricherAck (the epoch it derives with)
 *   `backfill/<epoch>`             a backfill's BackfillState
 * A key this version does not know is ignored (a newer writer may add kinds).
 */
export const SETTINGS_KEY = 'derivation-settings';
export const enricherKey = (groupId: string, instanceId: string): string =>
  `enricher/${groupId}/${instanceId}`;
export const backfillKey = (epoch: number): string => `backfill/${epoch}`;

export interface ControlState {
  settings: DerivationSettings | null;
  /** By key (`enricher/<group>/<instance>`). */
  enrichers: Map<string, EnricherAck>;
  /** By epoch. */
  backfills: Map<number, BackfillState>;
}

export const emptyControlState = (): ControlState => ({
  settings: null,
  enrichers: new Map(),
  backfills: new Map(),
});

/** Folds one record (a null value: a tombstone) into `state`. */
export function applyControl(state: ControlState, key: string, value: PipelineControl | null): void {
  if (key === SETTINGS_KEY) {
    state.settings = value?.settings ?? null;
  } else if (key.startsWith('enricher/')) {
    if (value?.enricher) state.enrichers.set(key, value.enricher);
    else state.enrichers.delete(key);
  } else if (key.startsWith('backfill/')) {
    const epoch = Number(key.slice('backfill/'.length));
    if (value?.backfill) state.backfills.set(epoch, value.backfill);
    else state.backfills.delete(epoch);
  }
}

/** A control record to write. */
export interface ControlRecord {
  key: string;
  value: PipelineControl | null;
}

const record = (key: string, value: Partial<PipelineControl>): ControlRecord => ({
  key,
  value: { settings: null, enricher: null, backfill: null, ...value },
});

export const settingsRecord = (settings: DerivationSettings): ControlRecord =>
  record(SETTINGS_KEY, { settings });
export const enricherRecord = (ack: EnricherAck): ControlRecord =>
  record(enricherKey(ack.group_id, ack.instance_id), { enricher: ack });
export const backfillRecord = (backfill: BackfillState): ControlRecord =>
  record(backfillKey(backfill.epoch), { backfill });

/** The backfill with the highest epoch, or null. */
export function latestBackfill(state: ControlState): BackfillState | null {
  let latest: BackfillState | null = null;
  for (const b of state.backfills.values()) if (!latest || b.epoch > latest.epoch) latest = b;
  return latest;
}

/** The consumer groups enrichers have acknowledged in (each instance acknowledges after it joins). */
export function enricherGroups(state: ControlState): string[] {
  return [...new Set([...state.enrichers.values()].map((a) => a.group_id))].sort();
}

/** What a derivation depends on: two settings with the same zone and rules derive the same fields. */
export type Derivation = Pick<DerivationSettings, 'time_zone' | 'rules_version'>;

export const sameDerivation = (a: Derivation, b: Derivation): boolean =>
  a.time_zone === b.time_zone && a.rules_version === b.rules_version;

/** 'time zone UTC, rules 1' (and ', epoch 0' for settings that have one). */
export function describeDerivation(s: Derivation & { epoch?: number }): string {
  return `time zone ${s.time_zone}, rules ${s.rules_version}${s.epoch === undefined ? '' : `, epoch ${s.epoch}`}`;
}
