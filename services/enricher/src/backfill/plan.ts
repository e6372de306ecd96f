import {
  assertTimeZone,
  describeDerivation,
  latestBackfill,
  sameDerivation,
  UsageError,
  type BackfillPartition,
  type BackfillState,
  type ControlState,
  type Derivation,
  type DerivationSettings,
} from '@cdc/core';
import { RULES_VERSION, isKnownRulesVersion, knownRulesVersions } from '@cdc/bookings';

/**
 * The pure half of `cdc backfill`: what to do given the request and the control topic's state,
 * the offset ranges, progress and estimates. No I/O here.
 */
export type BackfillFrom = { kind: 'beginning' } | { kind: 'time'; ms: number };

export interface BackfillRequest {
  timeZone?: string;
  rulesVersion?: string;
  from: BackfillFrom;
  /**
   * Re-derive under a new epoch even when the settings do not change: after a bad enricher
   * deploy wrote wrong fields, the fixed build re-derives the range and its records supersede
   * the bad ones (same version, newer epoch).
   */
  rederive?: boolean;
}

/** How a `from` is recorded in the backfill's state (and compared when the same command runs again). */
export const fromLabel = (from: BackfillFrom): string =>
  from.kind === 'beginning' ? 'beginning' : new Date(from.ms).toISOString();

/** The settings a pipeline that never recorded any derives with (an enricher records them on its first start). */
export const DEFAULT_SETTINGS: DerivationSettings = {
  time_zone: 'UTC',
  rules_version: RULES_VERSION,
  epoch: 0,
  since: 0,
  set_by: 'defaults (none recorded yet)',
};

/** Checks the options that need no broker: the zone and the rules version. Throws UsageError naming the option. */
export function validateRequest(req: BackfillRequest): void {
  if (req.timeZone !== undefined) {
    try {
      assertTimeZone(req.timeZone);
    } catch (err) {
      throw new UsageError(`--time-zone: ${(err as Error).message}`);
    }
  }
  if (req.rulesVersion !== undefined && !isKnownRulesVersion(req.rulesVersion)) {
    throw new UsageError(
      `--rules-version: rules version '${req.rulesVersion}' does not exist (known: ${knownRulesVersions().join(', ')})`,
    );
  }
}

/** The derivation asked for: each setting not named keeps its current value. */
export const targetOf = (current: Derivation, req: BackfillRequest): Derivation => ({
  time_zone: req.timeZone ?? current.time_zone,
  rules_version: req.rulesVersion ?? current.rules_version,
});

/** The next epoch: above the settings' and every backfill's. */
export function nextEpoch(state: ControlState): number {
  let epoch = state.settings?.epoch ?? 0;
  for (const b of state.backfills.values()) epoch = Math.max(epoch, b.epoch);
  return epoch + 1;
}

export const backfillGroupId = (topicPrefix: string, epoch: number): string =>
  `${topicPrefix}cdc-backfill.e${epoch}`;

export type BackfillAction =
  /** Record new settings and re-derive. */
  | { kind: 'new'; epoch: number }
  /** The same command again: go on with the unfinished backfill. */
  | { kind: 'resume'; backfill: BackfillState }
  /** The same command again after it finished: nothing to do (exit 0). */
  | { kind: 'finished'; backfill: BackfillState };

/**
 * New, resume, or already done; throws UsageError (nothing changed) when another backfill is
 * unfinished or when nothing would change (unless `rederive`: then every finished run is followed
 * by a new epoch, and only an unfinished one with the same settings and start is resumed).
 */
export function decideAction(state: ControlState, req: BackfillRequest): BackfillAction {
  const current = state.settings ?? DEFAULT_SETTINGS;
  const target = targetOf(current, req);
  const from = fromLabel(req.from);
  const latest = latestBackfill(state);
  if (latest && latest.status !== 'FINISHED') {
    if (sameDerivation(latest, target) && latest.from === from) return { kind: 'resume', backfill: latest };
    throw new UsageError(
      `backfill epoch ${latest.epoch} (to ${describeDerivation(latest)}, from ${latest.from}) is not finished: ` +
        `run it to the end first (\`cdc backfill ${commandOf(latest)} --execute\` resumes it; \`cdc backfill --status\` shows it)`,
    );
  }
  if (sameDerivation(current, target) && !req.rederive) {
    if (latest && latest.epoch === current.epoch && latest.from === from)
      return { kind: 'finished', backfill: latest };
    throw new UsageError(
      `nothing to do: the pipeline already derives with ${describeDerivation(current)}; ` +
        'name a different --time-zone or --rules-version, or add --rederive to re-derive with the same settings',
    );
  }
  return { kind: 'new', epoch: nextEpoch(state) };
}

/** The options that start (and resume) a backfill. */
export function commandOf(b: Pick<BackfillState, 'time_zone' | 'rules_version' | 'from'>): string {
  const from = b.from === 'beginning' ? '--from-beginning' : `--from ${b.from}`;
  return `${from} --time-zone ${b.time_zone} --rules-version ${b.rules_version}`;
}

/**
 * Checks `--from` against the clock and the history bronze still holds; throws UsageError naming
 * the option. A time before the oldest record of a partition whose head was deleted is refused:
 * the range would silently miss what is gone.
 */
export function validateFrom(
  fromMs: number,
  nowMs: number,
  partitions: { partition: number; earliest: number; earliestTimestampMs: number | null }[],
): void {
  if (fromMs > nowMs) {
    throw new UsageError(
      `--from ${new Date(fromMs).toISOString()} is in the future (now is ${new Date(nowMs).toISOString()})`,
    );
  }
  for (const p of partitions) {
    if (p.earliest > 0 && p.earliestTimestampMs !== null && fromMs < p.earliestTimestampMs) {
      throw new UsageError(
        `--from ${new Date(fromMs).toISOString()} is before the earliest offset bronze still holds ` +
          `(partition ${p.partition}: offset ${p.earliest}, written ${new Date(p.earliestTimestampMs).toISOString()}; ` +
          'older records were deleted): use --from-beginning or a later --from',
      );
    }
  }
}

/** Per partition: [start, end) with start from `starts` (else the earliest offset), end the end offset. */
export function planRanges(
  offsets: { partition: number; low: number; high: number }[],
  starts: Map<number, number> | null,
): BackfillPartition[] {
  return offsets
    .map((p) => {
      const start = Math.min(Math.max(starts?.get(p.partition) ?? p.low, p.low), p.high);
      return { partition: p.partition, start, end: p.high };
    })
    .sort((a, b) => a.partition - b.partition);
}

/** Records in the ranges (offsets: bronze has no transaction markers, its producers are not transactional). */
export const rangeRecords = (partitions: BackfillPartition[]): number =>
  partitions.reduce((sum, p) => sum + Math.max(0, p.end - p.start), 0);

/** Re-derived records per second of a finished backfill's last run, or null. */
export function measuredRate(b: BackfillState): number | null {
  return b.status === 'FINISHED' && b.run_ms > 0 && b.run_records >= 1000
    ? (b.run_records * 1000) / b.run_ms
    : null;
}

/**
 * Where the duration estimate's throughput comes from: the last finished backfill of this
 * pipeline that re-derived at least 1,000 records (its last run), else the backfill benchmark.
 */
export const BENCHMARK_EVENTS_PER_SECOND = 30_000;

export function estimateDuration(
  records: number,
  state: ControlState,
): { ms: number; eventsPerSecond: number; source: string } {
  const measured = [...state.backfills.values()]
    .filter((b) => measuredRate(b) !== null)
    .sort((a, b) => b.epoch - a.epoch)[0];
  const rate = measured ? measuredRate(measured)! : BENCHMARK_EVENTS_PER_SECOND;
  const source = measured
    ? `measured by backfill epoch ${measured.epoch} on this pipeline (${measured.run_records} records in ${(measured.run_ms / 1000).toFixed(1)} s)`
    : 'the backfill benchmark in BENCHMARKS.md (2 vCPU, live pipeline at 1,000 events/s); no backfill measured on this pipeline yet';
  return { ms: (records * 1000) / rate, eventsPerSecond: rate, source };
}
