import {
  backfillProgress,
  type BackfillState,
  type ControlState,
  type DerivationSettings,
  type RangeProgress,
} from '@cdc/core';
import { liveGroupsOf, type BackfillDeps } from './backfill';
import { liveMembers, type LiveMember } from './switch';

/** `cdc backfill --status`: the settings, the enrichers' acknowledgements, every backfill. */
export interface BackfillStatusReport {
  settings: DerivationSettings | null;
  enrichers: ControlState['enrichers'];
  liveMembers: LiveMember[];
  backfills: { state: BackfillState; progress: RangeProgress | null }[];
}

/** What `cdc backfill --status` shows: settings, enrichers, and every backfill (progress of the unfinished). */
export async function backfillStatus(deps: BackfillDeps): Promise<BackfillStatusReport> {
  const state = await deps.control.read();
  const backfills = await Promise.all(
    [...state.backfills.values()]
      .sort((a, b) => b.epoch - a.epoch)
      .map(async (b) => ({
        state: b,
        progress:
          b.status === 'RUNNING' ? await backfillProgress(deps.admin, b, deps.config.topics.bronze) : null,
      })),
  );
  return {
    settings: state.settings,
    enrichers: state.enrichers,
    liveMembers: await liveMembers(deps.admin, liveGroupsOf(deps, state)),
    backfills,
  };
}
