import { SingleBar } from 'cli-progress';
import type { Logger } from '@cdc/core';
import type { RangeProgress } from '@cdc/enricher';

/**
 * Backfill progress for humans: a progress bar with rate and ETA on stderr when it is a terminal,
 * otherwise a log line every few seconds (a service manager's logs stay readable).
 */
export function backfillProgressReporter(
  logger: Logger,
  epoch: number,
  stream: NodeJS.WriteStream = process.stderr,
): { update(p: RangeProgress): void; stop(): void } {
  const t0 = Date.now();
  let doneAtStart: number | null = null;
  const rateOf = (p: RangeProgress): number => {
    doneAtStart ??= p.done;
    return Math.round(((p.done - doneAtStart) * 1000) / Math.max(1, Date.now() - t0));
  };
  if (stream.isTTY) {
    const bar = new SingleBar({
      stream,
      format: `backfill epoch ${epoch} [{bar}] {percentage}% | {value}/{total} events | {rate}/s | eta {eta_formatted}`,
      hideCursor: true,
      etaBuffer: 50,
    });
    let started = false;
    return {
      update(p) {
        const payload = { rate: rateOf(p) };
        if (!started) {
          bar.start(Math.max(1, p.total), p.done, payload);
          started = true;
        }
        bar.update(p.done, payload);
      },
      stop: () => bar.stop(),
    };
  }
  let last = 0;
  return {
    update(p) {
      const rate = rateOf(p);
      const now = Date.now();
      if (now - last < 2000 && p.done < p.total) return;
      last = now;
      const etaS = rate > 0 ? Math.round((p.total - p.done) / rate) : null;
      logger.info({ epoch, done: p.done, total: p.total, eventsPerSecond: rate, etaS }, 'backfill progress');
    },
    stop: () => undefined,
  };
}
