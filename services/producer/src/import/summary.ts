import type { BronzeStateStats } from './bronze-state';
import type { ImportCounts } from './checkpoint';
import type { InputFormat } from './input';

/**
 * What an import did (or, with --dry-run, would do). Counts cover the whole import, including the
 * part done before an interruption; records are counted as sent only once the broker acknowledged
 * them (acks=all).
 */
export interface ImportSummary {
  status: 'planned' | 'completed' | 'stopped' | 'failed';
  input: string;
  format: InputFormat;
  topic: string;
  counts: ImportCounts;
  /** Records acknowledged by the broker in this run. */
  acknowledged: number;
  /** Handed to Kafka and failed, or unanswered when the run stopped waiting. */
  failed: number;
  unanswered: number;
  /** Records prepared but never sent (the run was stopped or a send failed). */
  notSent: number;
  /** The line the import continued after (an interrupted run), else null. */
  resumedAfterLine: number | null;
  /** Why an existing progress file was not used, if one was ignored. */
  startedOverBecause: string | null;
  bronze: BronzeStateStats;
  /** Booking ids of the input that bronze already holds: how many, and the first ones. */
  existing: { count: number; sample: string[] };
  ignoredColumns: string[];
  /** Where the rejected lines are listed (null when none were rejected). */
  rejectsFile: string | null;
  /** Where the progress of a stopped or failed import is kept (run the same command to continue). */
  progressFile: string | null;
  durationMs: number;
  /** Input rows per second over the run. */
  rowsPerSec: number;
  error?: string;
}

const n = (x: number): string => x.toLocaleString('en-US');

export function formatImportSummary(s: ImportSummary): string {
  const c = s.counts;
  const sent = c.created + c.updated + c.recreated;
  const lines: string[] = [];
  const head =
    s.status === 'planned'
      ? `dry run: nothing sent. Importing ${s.input} (${s.format}) into ${s.topic} would:`
      : `${s.status}: ${s.input} (${s.format}) into ${s.topic}`;
  lines.push(head);
  if (s.resumedAfterLine !== null)
    lines.push(`  continued an interrupted import after line ${n(s.resumedAfterLine)}`);
  if (s.startedOverBecause !== null) lines.push(`  started over: ${s.startedOverBecause}`);
  lines.push(`  ${n(c.rows).padStart(12)}  input rows`);
  lines.push(`  ${n(c.created).padStart(12)}  new bookings (snapshot reads, op r, version 1)`);
  lines.push(`  ${n(c.updated).padStart(12)}  changed bookings (updates, op u, version + 1)`);
  if (c.recreated > 0)
    lines.push(
      `  ${n(c.recreated).padStart(12)}  deleted in bronze, present in the input (op r, version + 1)`,
    );
  lines.push(`  ${n(c.unchanged).padStart(12)}  identical to what bronze holds: skipped`);
  lines.push(
    `  ${n(c.rejected).padStart(12)}  rejected${s.rejectsFile ? `: listed in ${s.rejectsFile}` : ''}`,
  );
  lines.push(
    s.status === 'planned'
      ? `  ${n(sent).padStart(12)}  to send`
      : `  ${n(sent).padStart(12)}  sent (${n(s.acknowledged)} acknowledged in this run, acks=all)`,
  );
  if (c.totalMismatches > 0) {
    lines.push(
      `  note: ${n(c.totalMismatches)} rows have a total_amount other than ticket_count × ticket_price (imported; the enricher derives the total)`,
    );
  }
  if (s.existing.count > 0) {
    const more = s.existing.count > s.existing.sample.length ? `, … (${n(s.existing.count)} in all)` : '';
    lines.push(`  already in bronze: ${s.existing.sample.join(', ')}${more}`);
  }
  lines.push(
    `  bronze read: ${n(s.bronze.records)} records, ${n(s.bronze.bookings)} bookings in ${(s.bronze.durationMs / 1000).toFixed(1)} s` +
      (s.bronze.undecodable > 0 ? ` (${n(s.bronze.undecodable)} undecodable records left out)` : ''),
  );
  if (s.ignoredColumns.length > 0) lines.push(`  ignored columns: ${s.ignoredColumns.join(', ')}`);
  lines.push(`  in ${(s.durationMs / 1000).toFixed(1)} s, ${n(Math.round(s.rowsPerSec))} rows/s`);
  if (s.failed > 0) lines.push(`  ${n(s.failed)} sent but FAILED (not acknowledged)`);
  if (s.unanswered > 0)
    lines.push(
      `  ${n(s.unanswered)} sent but UNANSWERED (run the same command again: found in bronze, they are skipped)`,
    );
  if (s.notSent > 0) lines.push(`  ${n(s.notSent)} prepared but not sent`);
  if (s.progressFile)
    lines.push(`  progress kept in ${s.progressFile}: run the same command again to continue`);
  if (s.error) lines.push(`  error: ${s.error}`);
  return `${lines.join('\n')}\n`;
}
