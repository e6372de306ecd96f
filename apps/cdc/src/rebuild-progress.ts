import type { Logger } from '@cdc/core';
import type { RebuildProgress } from '@cdc/aggregator';
import { ProgressReporter } from '@cdc/observe';

/**
 * Rebuild progress (`cdc aggregate --rebuild`): a bar of the offsets covered with the records
 * consumed and their rate on a terminal, else a log line every few seconds and at each phase.
 */
export function rebuildProgressReporter(
  logger: Logger,
  stream: NodeJS.WriteStream = process.stderr,
): { update(p: RebuildProgress): void; stop(): void } {
  const reporter = new ProgressReporter<{ phase: string; rate: number; changes: number }>({
    logger,
    stream,
    format:
      'rebuild {phase} [{bar}] {percentage}% | {value}/{total} offsets | {changes} changes | {rate}/s | eta {eta_formatted}',
    logEveryMs: 2000,
  });
  const t0 = Date.now();
  let lastPhase = '';
  return {
    update(p) {
      const rate = Math.round(p.changes / Math.max(0.001, (Date.now() - t0) / 1000));
      reporter.update(
        p.offsetsDone,
        { phase: p.phase, rate, changes: p.changes },
        Math.max(p.offsetsTotal, 1),
      );
      reporter.log('rebuild progress', { ...p }, p.phase !== lastPhase || p.offsetsDone >= p.offsetsTotal);
      lastPhase = p.phase;
    },
    stop: () => reporter.stop(),
  };
}
