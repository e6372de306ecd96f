import { describeDerivation, type BackfillState, type DerivationSettings } from '@cdc/core';
import {
  commandOf,
  describeMember,
  measuredRate,
  type BackfillPlan,
  type BackfillStatusReport,
  type RangeProgress,
} from '@cdc/enricher';

/** The text `cdc backfill` prints: the plan, the status, the end of a run. Pure. */
const iso = (ms: number | null): string => (ms === null ? '-' : new Date(ms).toISOString());
const n = (x: number): string => x.toLocaleString('en-US');
const pad = (s: string, width: number): string => s.padStart(width);

export const formatSeconds = (ms: number): string =>
  ms < 60_000
    ? `${(ms / 1000).toFixed(1)} s`
    : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;

function settingsLine(s: DerivationSettings, recorded = true): string {
  return recorded
    ? `${describeDerivation(s)} (since ${iso(s.since)}, set by ${s.set_by})`
    : `${describeDerivation(s)} (none recorded yet: the defaults an enricher records on its first start)`;
}

export function formatPlan(plan: BackfillPlan, bronze: string): string {
  const lines: string[] = [];
  const a = plan.action;
  if (a.kind === 'finished') {
    return (
      `Nothing to do: backfill epoch ${a.backfill.epoch} (to ${describeDerivation(a.backfill)}, from ${a.backfill.from}) ` +
      `finished at ${iso(a.backfill.finished_at)}; the pipeline derives with ${describeDerivation(plan.current)}.\n`
    );
  }
  lines.push(
    a.kind === 'new'
      ? 'Backfill plan (dry run: nothing was changed; add --execute to run it)'
      : `Backfill epoch ${plan.epoch} is not finished (${a.backfill.status}): --execute resumes it with the same epoch, group and range`,
    '',
    `  settings now:    ${a.kind === 'new' ? settingsLine(plan.current, plan.currentRecorded) : settingsLine(a.backfill.previous ?? plan.current)}`,
    `  settings after:  ${describeDerivation({ ...plan.target, epoch: plan.epoch })}`,
    `  range:           ${bronze}, from ${plan.from === 'beginning' ? 'the earliest retained offset' : `the first record written at or after ${plan.from}`} ` +
      `to the end offsets ${plan.rangeSource === 'recorded' ? 'recorded when it started' : 'as of now'}`,
    `  consumer group:  ${plan.groupId} (transactional id ${plan.groupId}.0)`,
    '',
    `  ${pad('partition', 9)} ${pad('start', 12)} ${pad('end', 12)} ${pad('events', 10)}  ${'first event time'.padEnd(24)}  last event time`,
  );
  let first: number | null = null;
  let last: number | null = null;
  for (const p of plan.stats.partitions) {
    lines.push(
      `  ${pad(String(p.partition), 9)} ${pad(n(p.start), 12)} ${pad(n(p.end), 12)} ${pad(n(p.records), 10)}  ${iso(p.firstEventMs).padEnd(24)}  ${iso(p.lastEventMs)}`,
    );
    if (p.firstEventMs !== null) first = first === null ? p.firstEventMs : Math.min(first, p.firstEventMs);
    if (p.lastEventMs !== null) last = last === null ? p.lastEventMs : Math.max(last, p.lastEventMs);
  }
  const undecodable = plan.stats.partitions.reduce((s, p) => s + p.undecodable, 0);
  lines.push(
    `  ${pad('total', 9)} ${pad('', 12)} ${pad('', 12)} ${pad(n(plan.records), 10)}  ${iso(first).padEnd(24)}  ${iso(last)}`,
    '',
    `  bookings re-derived:                    ${n(plan.stats.bookingsInRange)} (changed within the range)`,
    `  bookings last changed before the range: ${n(plan.stats.bookingsBefore)} (they keep their old derivation; counted from bronze's keys, earliest offset to the end)`,
  );
  if (undecodable > 0)
    lines.push(`  undecodable records in the range:       ${n(undecodable)} (dead-lettered again)`);
  if (plan.progress) {
    lines.push(
      `  done so far:                            ${n(plan.progress.done)} of ${n(plan.progress.total)} events`,
    );
  }
  lines.push(
    `  estimated duration:                     ${formatSeconds(plan.estimate.ms)} at ${n(Math.round(plan.estimate.eventsPerSecond))} events/s (${plan.estimate.source})`,
    `  live enrichers:                         ${
      plan.liveMembers.length === 0
        ? `none running (groups ${plan.liveGroups.join(', ')}): no acknowledgement to wait for`
        : `${plan.liveMembers.length} member(s) must acknowledge the new epoch: ${plan.liveMembers.map(describeMember).join('; ')}`
    }`,
  );
  if (a.kind === 'new' || a.backfill.status === 'SWITCHING') {
    lines.push(
      '',
      'On --execute the new settings are recorded first, so live enrichment switches at once; the end offsets are',
      'captured once every live enricher has acknowledged the new epoch, so the range may end later than shown.',
    );
  }
  return `${lines.join('\n')}\n`;
}

export function formatFinished(b: BackfillState): string {
  const rate = measuredRate(b);
  return (
    `backfill epoch ${b.epoch} finished: ${n(b.records)} bronze records re-derived into silver ` +
    `(this run: ${n(b.run_records)} in ${formatSeconds(b.run_ms)}${rate === null ? '' : `, ${n(Math.round(rate))} events/s`}); ` +
    `the pipeline derives with ${describeDerivation(b)}\n`
  );
}

function progressLines(p: RangeProgress): string[] {
  return p.partitions.map(
    (x) =>
      `    partition ${x.partition}: ${n(x.done)} / ${n(x.total)} (offsets ${n(x.start)}..${n(x.end)}, committed ${n(x.committed)})`,
  );
}

export function formatStatus(r: BackfillStatusReport): string {
  const lines: string[] = [];
  lines.push(
    `settings: ${r.settings ? settingsLine(r.settings) : 'none recorded yet (no enricher has started)'}`,
  );
  const acks = [...r.enrichers.values()].sort((a, b) =>
    `${a.group_id}/${a.instance_id}`.localeCompare(`${b.group_id}/${b.instance_id}`),
  );
  const live = new Set(r.liveMembers.map((m) => `${m.groupId}\u0000${m.memberId}`));
  lines.push(acks.length === 0 ? 'enrichers: none has acknowledged an epoch' : 'enrichers:');
  for (const a of acks) {
    const running = live.has(`${a.group_id}\u0000${a.member_id}`) ? 'running' : 'not a current member';
    lines.push(
      `  ${a.group_id}/${a.instance_id}: epoch ${a.epoch} (acknowledged ${iso(a.acked_at)}; ${running})`,
    );
  }
  if (r.backfills.length === 0) lines.push('backfills: none');
  for (const { state: b, progress } of r.backfills) {
    lines.push(
      `backfill epoch ${b.epoch}: ${b.status}, ${b.previous ? `${describeDerivation(b.previous)} -> ` : ''}${describeDerivation(b)}, ` +
        `from ${b.from}, group ${b.group_id}, started ${iso(b.created_at)}`,
    );
    if (b.status === 'SWITCHING') {
      lines.push(
        '  waiting for the live enrichers to acknowledge the new epoch (range end not captured yet)',
      );
    }
    if (progress) {
      lines.push(
        `  running: ${n(progress.done)} / ${n(progress.total)} events re-derived`,
        ...progressLines(progress),
      );
    }
    if (b.status === 'FINISHED')
      lines.push(`  ${formatFinished(b).trimEnd()}, finished ${iso(b.finished_at)}`);
    if (b.status !== 'FINISHED') lines.push(`  resume: cdc backfill ${commandOf(b)} --execute`);
  }
  return `${lines.join('\n')}\n`;
}
