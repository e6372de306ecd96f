import { CHANGE_KINDS, type ChangeKind } from '@cdc/bookings';

/**
 * What a run did. `acknowledged` counts only events Kafka acknowledged (acks=all); events that
 * were sent but not acknowledged (failed, or still unanswered when the run gave up waiting) and
 * events generated but never sent are reported apart, never as sent.
 */
export interface ProduceSummary {
  status: 'completed' | 'stopped' | 'failed';
  topic: string;
  acknowledged: Record<ChangeKind, number>;
  acknowledgedTotal: number;
  /** Sent, and the send failed after retries: not written (or unknown, see `error`). */
  failed: number;
  /** Sent, and no answer before the run stopped waiting: they may or may not be written. */
  unanswered: number;
  /** Generated but never handed to Kafka (the run was stopped or a send failed). */
  notSent: number;
  generated: number;
  /** Generated images given a defect (invalid records on purpose). */
  dirty: number;
  durationMs: number;
  /** Acknowledged events per second over the run. */
  eventsPerSec: number;
  source:
    | { kind: 'generator'; seed: number; runId: string; firstSeq: number }
    | { kind: 'scenario'; name: string; runId?: string; seed?: number };
  error?: string;
}

export const emptyByKind = (): Record<ChangeKind, number> => ({ create: 0, cancel: 0, update: 0, delete: 0 });

export function formatSummary(s: ProduceSummary): string {
  const lines: string[] = [];
  const src =
    s.source.kind === 'scenario'
      ? `scenario ${s.source.name}${s.source.runId ? `, run ${s.source.runId}` : ''}${s.source.seed !== undefined ? `, seed ${s.source.seed}` : ''}`
      : `seed ${s.source.seed}, run ${s.source.runId}, first seq ${s.source.firstSeq}`;
  lines.push(`${s.status}: ${s.acknowledgedTotal} events acknowledged on ${s.topic} (${src})`);
  lines.push(
    `  in ${(s.durationMs / 1000).toFixed(1)} s, ${Math.round(s.eventsPerSec)} events/s acknowledged, acks=all`,
  );
  lines.push('  operation   acknowledged');
  for (const k of CHANGE_KINDS) lines.push(`  ${k.padEnd(10)}  ${String(s.acknowledged[k]).padStart(12)}`);
  lines.push(`  ${'total'.padEnd(10)}  ${String(s.acknowledgedTotal).padStart(12)}`);
  if (s.dirty > 0) lines.push(`  ${s.dirty} generated images carry a defect on purpose (invalid records)`);
  if (s.failed > 0) lines.push(`  ${s.failed} sent but FAILED (not acknowledged)`);
  if (s.unanswered > 0) lines.push(`  ${s.unanswered} sent but UNANSWERED (may or may not be written)`);
  if (s.notSent > 0) lines.push(`  ${s.notSent} generated but not sent`);
  if (s.error) lines.push(`  error: ${s.error}`);
  return `${lines.join('\n')}\n`;
}
