import { formatRetention } from '@cdc/core';
import type { StatusReport } from './report';

const ago = (iso: string | null, nowMs: number): string => {
  if (iso === null) return '-';
  const s = Math.max(0, Math.round((nowMs - Date.parse(iso)) / 1000));
  return s < 120
    ? `${s} s ago`
    : s < 7200
      ? `${Math.round(s / 60)} min ago`
      : `${Math.round(s / 3600)} h ago`;
};
const waited = (ms: number | null): string =>
  ms === null ? '?' : ms === 0 ? 'none' : `${(ms / 1000).toFixed(1)} s`;
const pad = (s: string | number, n: number): string => String(s).padEnd(n);
const lpad = (s: string | number, n: number): string => String(s).padStart(n);

/** The one screen of `cdc status`. */
export function formatStatus(r: StatusReport): string {
  const now = Date.parse(r.generated_at);
  const out: string[] = [];
  out.push(`pipeline ${r.healthy ? 'HEALTHY' : 'DEGRADED'}  (${r.generated_at})`);
  for (const reason of r.reasons) out.push(`  ! ${reason}`);
  const b = r.stack.broker;
  const g = r.stack.registry;
  out.push('', 'STACK');
  out.push(
    `  kafka     ${pad(b.up ? 'up' : 'DOWN', 5)} ${pad(b.address, 24)} ${b.up ? `${b.brokers} broker(s)${b.version ? `, Kafka ${b.version}` : ''}` : (b.error ?? '')}`,
  );
  out.push(
    `  registry  ${pad(g.up ? 'up' : 'DOWN', 5)} ${pad(g.url, 24)} ${g.up ? (g.version ?? '') : (g.error ?? '')}`,
  );
  if (!b.up) return `${out.join('\n')}\n`;

  out.push('', 'TOPICS');
  out.push(
    `  ${pad('role', 12)}${pad('name', 48)}${pad('parts', 6)}${pad('retention', 16)}${pad('earliest', 14)}end offsets`,
  );
  for (const t of r.topics) {
    if (!t.exists) {
      out.push(`  ${pad(t.role, 12)}${pad(t.name, 48)}MISSING`);
      continue;
    }
    const retention =
      t.cleanup_policy === 'compact'
        ? 'compacted'
        : t.retention_ms === null
          ? '?'
          : formatRetention(t.retention_ms);
    out.push(
      `  ${pad(t.role, 12)}${pad(t.name, 48)}${pad(t.partitions, 6)}${pad(retention, 16)}${pad(ago(t.earliest_retained_at, now), 14)}${t.end_offsets.join(' ')}`,
    );
  }

  out.push('', 'CONSUMER GROUPS');
  for (const grp of r.groups) {
    out.push(
      `  ${pad(grp.stage, 11)}${pad(grp.group, 44)}${pad(grp.state, 20)}members ${grp.members}  lag ${grp.lag ?? '-'}  oldest waiting ${waited(grp.wait_ms)}  last commit ${ago(grp.last_commit_at, now)}`,
    );
    out.push(
      `  ${''.padEnd(11)}lag per partition: ${grp.partitions.map((p) => `${p.partition}:${p.lag ?? '-'}`).join('  ')}`,
    );
  }

  out.push('', `AGGREGATOR  ${r.aggregator.db}`);
  if (r.aggregator.error) out.push(`  ${r.aggregator.error}`);
  for (const batch of r.aggregator.batches) {
    out.push(
      `  ${pad(ago(batch.at, now), 12)}${lpad(batch.changes, 8)} changes ${lpad(batch.applied, 8)} applied ${lpad(batch.duration_ms.toFixed(1), 9)} ms`,
    );
  }
  out.push('');
  out.push(`DEAD LETTERS  ${r.dead_letters ?? '-'}`);
  out.push(
    `EVENT TIME    newest event in gold ${r.freshness.newest_event_at ?? '-'}  (${r.freshness.event_age_ms === null ? '-' : `${(r.freshness.event_age_ms / 1000).toFixed(1)} s before now`}; shown, not judged)`,
  );
  const bf = r.backfill;
  out.push(
    `BACKFILL      ${bf ? `epoch ${bf.epoch} ${bf.status} (${bf.time_zone}, rules ${bf.rules_version})${bf.total ? `: ${bf.done}/${bf.total} records` : ''}` : 'none running'}`,
  );
  return `${out.join('\n')}\n`;
}
