import { SingleBar } from 'cli-progress';
import type { Logger } from '@cdc/core';
import type { RebuildProgress } from './rebuild';

/**
 * Rebuild progress for humans: a progress bar on stderr when it is a terminal, otherwise a log
 * line every few seconds (so logs of a service manager stay readable).
 */
export function rebuildProgressReporter(
  logger: Logger,
  stream: NodeJS.WriteStream = process.stderr,
): { update(p: RebuildProgress): void; stop(): void } {
  if (stream.isTTY) {
    const bar = new SingleBar({
      stream,
      format:
        'rebuild {phase} [{bar}] {percentage}% | {value}/{total} offsets | {changes} changes | {rate}/s | eta {eta_formatted}',
      hideCursor: true,
    });
    const t0 = Date.now();
    let started = false;
    return {
      update(p) {
        const rate = Math.round(p.changes / Math.max(0.001, (Date.now() - t0) / 1000));
        const payload = { phase: p.phase, rate, changes: p.changes };
        if (!started) {
          bar.start(Math.max(p.offsetsTotal, 1), p.offsetsDone, payload);
          started = true;
        }
        bar.update(p.offsetsDone, payload);
      },
      stop: () => bar.stop(),
    };
  }
  let last = 0;
  let lastPhase = '';
  return {
    update(p) {
      const now = Date.now();
      if (p.phase === lastPhase && now - last < 2000 && p.offsetsDone < p.offsetsTotal) return;
      last = now;
      lastPhase = p.phase;
      logger.info(p, 'rebuild progress');
    },
    stop: () => undefined,
  };
}
