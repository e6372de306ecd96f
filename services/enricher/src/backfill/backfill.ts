import {
  backfillRecord,
  CdcError,
  committedOffsets,
  rangeProgress,
  deletedHistory,
  enricherGroups,
  settingsRecord,
  sleep,
  type BackfillState,
  type ControlClient,
  type ControlState,
  type Derivation,
  type DerivationSettings,
  type Logger,
  type RegistryClient,
  type Admin,
  type Kafka,
} from '@cdc/core';
import type { EnricherConfig } from '../config';
import { inspectRange, type RangeStats } from './inspect';
import {
  backfillGroupId,
  decideAction,
  DEFAULT_SETTINGS,
  estimateDuration,
  fromLabel,
  planRanges,
  rangeRecords,
  targetOf,
  validateFrom,
  validateRequest,
  type BackfillAction,
  type BackfillRequest,
} from './plan';
import { runRange, type RangeProgress, type RunRangeResult } from './run';
import { liveMembers, waitForSwitch, type LiveMember } from './switch';

/**
 * `cdc backfill`: plan (changes nothing) and execute. Executing records the new settings and the
 * backfill's state in the control topic together (live enrichers switch at once), waits until
 * every live enricher acknowledged the new epoch (switch.ts), captures the end offsets E, then
 * re-derives [start, E) in its own group (run.ts) and records it finished. Each step is recorded
 * before the next, so the same command run again resumes where the last run stopped: the same
 * epoch, group and range.
 */
export interface BackfillDeps {
  /** The enricher's settings (connection, topics, tuning); the backfill runs in its own group. */
  config: EnricherConfig;
  kafka: Kafka;
  admin: Admin;
  registry: RegistryClient;
  control: ControlClient;
  logger: Logger;
}

export interface BackfillPlan {
  action: BackfillAction;
  /** The settings in force (defaults when none are recorded yet: `currentRecorded` false). */
  current: DerivationSettings;
  currentRecorded: boolean;
  target: Derivation;
  epoch: number;
  from: string;
  groupId: string;
  /** Recorded (a resumed backfill's start, and end once captured) or computed now. */
  rangeSource: 'now' | 'recorded' | 'recorded start, end as of now';
  stats: RangeStats;
  records: number;
  estimate: ReturnType<typeof estimateDuration>;
  /** Live enricher groups and their members now (each must acknowledge the new epoch). */
  liveMembers: LiveMember[];
  liveGroups: string[];
  /** A resumed running backfill's progress. */
  progress: RangeProgress | null;
}

/** The live enricher groups: those that ever acknowledged, and the default one. */
export const liveGroupsOf = (deps: BackfillDeps, state: ControlState): string[] => [
  ...new Set([`${deps.config.connection.topicPrefix}cdc-enricher`, ...enricherGroups(state)]),
];

export async function planBackfill(
  deps: BackfillDeps,
  req: BackfillRequest,
  nowMs = Date.now(),
): Promise<BackfillPlan> {
  validateRequest(req);
  const { admin, config } = deps;
  const bronze = config.topics.bronze;
  const state = await deps.control.read();
  const action = decideAction(state, req);
  const current = state.settings ?? DEFAULT_SETTINGS;
  const target = targetOf(current, req);
  const liveGroups = liveGroupsOf(deps, state);
  const offsets = (await admin.fetchTopicOffsets(bronze)).map((p) => ({
    partition: p.partition,
    low: Number(p.low),
    high: Number(p.high),
  }));
  let partitions = planRanges(offsets, null);
  let rangeSource: BackfillPlan['rangeSource'] = 'now';
  let epoch: number;
  let progress: RangeProgress | null = null;
  if (action.kind === 'new') {
    epoch = action.epoch;
    if (req.from.kind === 'time') {
      const from = req.from.ms;
      const history = await deletedHistory(deps.kafka, admin, bronze, `${config.groupId}.backfill-plan`);
      validateFrom(from, nowMs, history.partitions);
      const at = await admin.fetchTopicOffsetsByTimestamp(bronze, from);
      partitions = planRanges(offsets, new Map(at.map((p) => [p.partition, Number(p.offset)])));
    }
  } else {
    const b = action.backfill;
    epoch = b.epoch;
    const highs = new Map(offsets.map((p) => [p.partition, p.high]));
    partitions = b.partitions.map((p) => ({
      ...p,
      end: p.end >= 0 ? p.end : (highs.get(p.partition) ?? p.start),
    }));
    rangeSource = b.status === 'SWITCHING' ? 'recorded start, end as of now' : 'recorded';
    if (b.status !== 'SWITCHING')
      progress = rangeProgress(b.partitions, await committedOffsets(admin, b.group_id, bronze));
  }
  const lows = new Map(offsets.map((p) => [p.partition, p.low]));
  const stats =
    action.kind === 'finished'
      ? { partitions: [], bookingsInRange: 0, bookingsBefore: 0 }
      : await inspectRange({
          kafka: deps.kafka,
          admin,
          registry: deps.registry,
          topic: bronze,
          ranges: partitions.map((p) => ({ ...p, earliest: Math.min(lows.get(p.partition) ?? 0, p.start) })),
          groupPrefix: `${config.groupId}.backfill-plan`,
        });
  const records = rangeRecords(partitions);
  return {
    action,
    current,
    currentRecorded: state.settings !== null,
    target,
    epoch,
    from: fromLabel(req.from),
    groupId:
      action.kind === 'new'
        ? backfillGroupId(config.connection.topicPrefix, epoch)
        : action.backfill.group_id,
    rangeSource,
    stats,
    records,
    estimate: estimateDuration(progress ? progress.total - progress.done : records, state),
    liveMembers: await liveMembers(admin, liveGroups),
    liveGroups,
    progress,
  };
}

export interface ExecuteHooks {
  /** Live enricher members not yet on the new epoch (called while waiting, about every 250 ms). */
  onSwitchWaiting?: (pending: LiveMember[]) => void;
  /** The range is captured (or was): re-deriving starts. */
  onRunning?: (state: BackfillState) => void;
  onProgress?: (p: RangeProgress) => void;
  signal?: AbortSignal;
  /** How long to wait for the live enrichers to acknowledge the new epoch. Default 2 minutes. */
  switchTimeoutMs?: number;
  /** Heard when a run ends (complete or interrupted). */
  onRunEnd?: (run: RunRangeResult) => void;
}

/** Runs a plan (from `planBackfill`): returns the finished state, or null when interrupted (`signal`). */
export async function executeBackfill(
  deps: BackfillDeps,
  plan: BackfillPlan,
  hooks: ExecuteHooks = {},
): Promise<BackfillState | null> {
  const { admin, control, config } = deps;
  const bronze = config.topics.bronze;
  if (plan.action.kind === 'finished') return plan.action.backfill;
  let state: BackfillState;
  if (plan.action.kind === 'new') {
    const now = Date.now();
    state = {
      epoch: plan.epoch,
      time_zone: plan.target.time_zone,
      rules_version: plan.target.rules_version,
      previous: plan.currentRecorded ? plan.current : null,
      from: plan.from,
      group_id: plan.groupId,
      status: 'SWITCHING',
      partitions: plan.stats.partitions.map((p) => ({ partition: p.partition, start: p.start, end: -1 })),
      created_at: now,
      range_captured_at: null,
      finished_at: null,
      records: 0,
      run_records: 0,
      run_ms: 0,
    };
    const settings: DerivationSettings = {
      ...plan.target,
      epoch: plan.epoch,
      since: now,
      set_by: `cdc backfill (epoch ${plan.epoch})`,
    };
    // One request to the control topic's one partition: both records, in this order, or neither.
    await control.write([backfillRecord(state), settingsRecord(settings)]);
    deps.logger.info({ epoch: plan.epoch, settings }, 'new derivation settings recorded');
  } else {
    state = plan.action.backfill;
  }

  if (state.status === 'SWITCHING') {
    await waitForSwitch({
      admin,
      control,
      groups: () => liveGroupsOf(deps, control.state),
      epoch: state.epoch,
      timeoutMs: hooks.switchTimeoutMs ?? 120_000,
      onWaiting: hooks.onSwitchWaiting,
      signal: hooks.signal,
    });
    // Only now: every record derived with an older epoch lies below these end offsets.
    const ends = new Map((await admin.fetchTopicOffsets(bronze)).map((p) => [p.partition, Number(p.high)]));
    state = {
      ...state,
      status: 'RUNNING',
      range_captured_at: Date.now(),
      partitions: state.partitions.map((p) => ({
        ...p,
        end: Math.max(p.start, ends.get(p.partition) ?? p.start),
      })),
    };
    await control.write([backfillRecord(state)]);
  }
  hooks.onRunning?.(state);

  const groupConfig = backfillConfig(config, state.group_id);
  await ensureGroupIdle(admin, groupConfig);
  const run = await runRange({
    config: groupConfig,
    kafka: deps.kafka,
    admin,
    registry: deps.registry,
    logger: deps.logger,
    settings: state,
    partitions: state.partitions,
    onProgress: hooks.onProgress,
    signal: hooks.signal,
  });
  hooks.onRunEnd?.(run);
  if (!run.complete) return null;
  state = {
    ...state,
    status: 'FINISHED',
    finished_at: Date.now(),
    records: rangeRecords(state.partitions),
    run_records: run.records,
    run_ms: Math.round(run.ms),
  };
  await control.write([backfillRecord(state)]);
  await admin.deleteGroups([state.group_id]).catch(() => undefined);
  return state;
}

/** The backfill's group: its own transactional id; a short session, so a killed run is replaced fast. */
export function backfillConfig(config: EnricherConfig, groupId: string): EnricherConfig {
  return {
    ...config,
    groupId,
    instanceId: 'backfill',
    transactionalId: `${groupId}.0`,
    sessionTimeoutMs: BACKFILL_SESSION_TIMEOUT_MS,
    heartbeatIntervalMs: Math.min(config.heartbeatIntervalMs, BACKFILL_SESSION_TIMEOUT_MS / 3),
    // A finished or stopped run leaves: the group is deleted after it, and a next run needs it empty.
    leaveGroupOnStop: true,
  };
}

const BACKFILL_SESSION_TIMEOUT_MS = 10_000;

/**
 * Before a run: the group must have no members (a killed run's member is expelled after its
 * session timeout; one still there after that is another running backfill process). Partitions
 * with no committed offset yet start at the range's start (run.ts).
 */
async function ensureGroupIdle(admin: Admin, config: EnricherConfig): Promise<void> {
  const deadline = Date.now() + config.sessionTimeoutMs + 5000;
  for (;;) {
    const members = await liveMembers(admin, [config.groupId]);
    if (members.length === 0) break;
    if (Date.now() > deadline) {
      throw new CdcError(
        'CONFLICT',
        `backfill: another process is running this backfill (group ${config.groupId}: ${members.map((m) => `${m.clientId} on ${m.clientHost}`).join(', ')}); ` +
          'wait for it, or stop it and run the command again',
      );
    }
    await sleep(500);
  }
}
