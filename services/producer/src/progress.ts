import { Presets, SingleBar } from 'cli-progress';
import type { Logger } from '@cdc/core';

/**
 * Progress of a long run: a cli-progress line on a terminal, else a structured log line every few
 * seconds. Shows the recent rate, events sent (handed to Kafka) and acknowledged.
 */
export type ProgressMode = 'auto' | 'bar' | 'log' | 'none';

export interface ProgressSnapshot {
  generated: number;
  sent: number;
  acked: number;
  inFlight: number;
  failed: number;
}

export interface Progress {
  update(s: ProgressSnapshot): void;
  stop(s: ProgressSnapshot): void;
  /** How often `update` should be called. */
  readonly intervalMs: number;
}

export function createProgress(options: {
  mode: ProgressMode;
  total: number | null;
  logger: Logger;
  logIntervalMs?: number;
  stream?: NodeJS.WriteStream;
}): Progress {
  const stream = options.stream ?? process.stderr;
  const mode = options.mode === 'auto' ? (stream.isTTY ? 'bar' : 'log') : options.mode;
  let last = { t: Date.now(), acked: 0 };
  const rate = (s: ProgressSnapshot): number => {
    const now = Date.now();
    const r = now > last.t ? ((s.acked - last.acked) * 1000) / (now - last.t) : 0;
    last = { t: now, acked: s.acked };
    return Math.round(r);
  };

  if (mode === 'none') return { update: () => undefined, stop: () => undefined, intervalMs: 1000 };
  if (mode === 'log') {
    const intervalMs = options.logIntervalMs ?? 5000;
    return {
      intervalMs,
      update: (s) => options.logger.info({ ratePerSec: rate(s), ...s }, 'producing'),
      stop: () => undefined,
    };
  }

  const bounded = options.total !== null;
  const bar = new SingleBar(
    {
      stream,
      hideCursor: true,
      clearOnComplete: false,
      format: `${bounded ? '{bar} {percentage}% | ' : ''}{rate} ev/s | sent {sent} | acked {value}${
        bounded ? '/{total}' : ''
      } | in flight {inFlight}{failedText} | {duration_formatted}`,
    },
    Presets.shades_classic,
  );
  const payload = (s: ProgressSnapshot, r: number) => ({
    rate: r,
    sent: s.sent,
    inFlight: s.inFlight,
    failedText: s.failed > 0 ? ` | FAILED ${s.failed}` : '',
  });
  bar.start(options.total ?? 0, 0, payload({ generated: 0, sent: 0, acked: 0, inFlight: 0, failed: 0 }, 0));
  return {
    intervalMs: 500,
    update: (s) => bar.update(s.acked, payload(s, rate(s))),
    stop: (s) => {
      bar.update(s.acked, payload(s, rate(s)));
      bar.stop();
    },
  };
}
