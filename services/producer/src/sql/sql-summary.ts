import { CHANGE_KINDS, type ChangeKind } from '@cdc/bookings';
import type { ProduceSummary } from '../summary';

/**
 * What a run to the database did: the changes committed, by kind, and the ones the database
 * refused (counted, the first few with the database's reason), never reported as written.
 */
export interface SqlProduceSummary {
  status: 'completed' | 'stopped' | 'failed';
  /** user@host:port/database */
  database: string;
  committed: Record<ChangeKind, number>;
  committedTotal: number;
  transactions: number;
  refused: number;
  refusals: { bookingId: string; kind: ChangeKind; reason: string; sqlState?: string }[];
  generated: number;
  /** Generated images given a defect (invalid records on purpose; the table takes them). */
  dirty: number;
  durationMs: number;
  changesPerSec: number;
  source: ProduceSummary['source'];
  error?: string;
}

export function formatSqlSummary(s: SqlProduceSummary): string {
  const src =
    s.source.kind === 'scenario'
      ? `scenario ${s.source.name}${s.source.runId ? `, run ${s.source.runId}` : ''}${s.source.seed !== undefined ? `, seed ${s.source.seed}` : ''}`
      : `seed ${s.source.seed}, run ${s.source.runId}`;
  const lines = [
    `${s.status}: ${s.committedTotal} changes committed to ${s.database} in ${s.transactions} transactions (${src})`,
    `  in ${(s.durationMs / 1000).toFixed(1)} s, ${Math.round(s.changesPerSec)} changes/s committed`,
    '  operation      committed',
    ...CHANGE_KINDS.map((k) => `  ${k.padEnd(10)}  ${String(s.committed[k]).padStart(12)}`),
    `  ${'total'.padEnd(10)}  ${String(s.committedTotal).padStart(12)}`,
  ];
  if (s.dirty > 0) lines.push(`  ${s.dirty} generated images carry a defect on purpose (invalid records)`);
  if (s.refused > 0) {
    lines.push(`  ${s.refused} changes REFUSED by the database (left out; the others were written):`);
    for (const r of s.refusals)
      lines.push(`    ${r.kind} ${r.bookingId}: ${r.reason}${r.sqlState ? ` [SQLSTATE ${r.sqlState}]` : ''}`);
    if (s.refused > s.refusals.length)
      lines.push(`    … and ${s.refused - s.refusals.length} more (see the log)`);
  }
  if (s.error) lines.push(`  error: ${s.error}`);
  return `${lines.join('\n')}\n`;
}
