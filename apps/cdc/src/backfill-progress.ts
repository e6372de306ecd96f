import type { Logger } from '@cdc/core';
import type { RangeProgress } from '@cdc/enricher';
import { ProgressReporter } from '@cdc/observe';

/**
 * Backfill progress (`cdc backfill --execute`): a bar with rate and ETA on a terminal, otherwise
 * a log line every few seconds and at the end.
 */
export function backfillProgressReporter(
  logger: Logger,
  epoch: number,
  stream: NodeJS.WriteStream = process.stderr,
): { update(p: RangeProgress): void; stop(): void } {
  const reporter = new ProgressReporter<{ rate: number }>({
    logger,
    stream,
    format: `backfill epoch ${epoch} [{bar}] {percentage}% | {value}/{total} events | {rate}/s | eta {eta_formatted}`,
    etaBuffer: 50,
    logEveryMs: 2000,
  });
  const t0 = Date.now();
  let doneAtStart: number | null = null;
  const rateOf = (p: RangeProgress): number => {
    doneAtStart ??= p.done;
    return Math.round(((p.done - doneAtStart) * 1000) / Math.max(1, Date.now() - t0));
  };
  return {
    update(p) {
      const rate = rateOf(p);
      reporter.update(p.done, { rate }, Math.max(1, p.total));
      const etaS = rate > 0 ? Math.round((p.total - p.done) / rate) : null;
      const fields = { epoch, done: p.done, total: p.total, eventsPerSecond: rate, etaS };
      reporter.log('backfill progress', fields, p.done >= p.total);
    },
    stop: () => reporter.stop(),
  };
}
