import type { Logger } from '@cdc/core';
import { ProgressReporter, recentRate, type ProgressMode } from '@cdc/observe';

/**
 * Progress of a long run (observe's reporter): a bar on a terminal, else a structured log line
 * every few seconds. Shows the recent rate, events sent (handed to Kafka) and acknowledged.
 */
export type { ProgressMode };

type Payload = { rate: number; sent: number; inFlight: number; failedText: string };

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
  const bounded = options.total !== null;
  const reporter = new ProgressReporter<Payload>({
    mode: options.mode,
    logger: options.logger,
    stream: options.stream,
    preset: 'shades_classic',
    format: `${bounded ? '{bar} {percentage}% | ' : ''}{rate} ev/s | sent {sent} | acked {value}${
      bounded ? '/{total}' : ''
    } | in flight {inFlight}{failedText} | {duration_formatted}`,
  });
  const rate = recentRate();
  if (reporter.mode === 'none') return { update: () => undefined, stop: () => undefined, intervalMs: 1000 };
  if (reporter.mode === 'log') {
    return {
      intervalMs: options.logIntervalMs ?? 5000,
      update: (s) => reporter.log('producing', { ratePerSec: rate(s.acked), ...s }),
      stop: () => undefined,
    };
  }
  const payload = (s: ProgressSnapshot, r: number): Payload => ({
    rate: r,
    sent: s.sent,
    inFlight: s.inFlight,
    failedText: s.failed > 0 ? ` | FAILED ${s.failed}` : '',
  });
  reporter.start(
    options.total ?? 0,
    0,
    payload({ generated: 0, sent: 0, acked: 0, inFlight: 0, failed: 0 }, 0),
  );
  return {
    intervalMs: 500,
    update: (s) => reporter.update(s.acked, payload(s, rate(s.acked))),
    stop: (s) => {
      reporter.update(s.acked, payload(s, rate(s.acked)));
      reporter.stop();
    },
  };
}
