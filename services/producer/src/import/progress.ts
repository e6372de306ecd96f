import type { Logger } from '@cdc/core';
import { ProgressReporter, recentRate, type ProgressMode } from '@cdc/observe';
import type { ImportCounts } from './checkpoint';

/**
 * Progress of an import (observe's reporter): a bar on a terminal (bytes of the input read, rows per
 * second, records acknowledged, skipped and rejected), else a structured log line every few
 * seconds, or nothing.
 */
export type ImportProgressMode = ProgressMode;

export interface ImportSnapshot {
  bytes: number;
  counts: ImportCounts;
  acked: number;
  inFlight: number;
}

export interface ImportProgress {
  /** What is happening now (reading bronze, importing). */
  phase(text: string): void;
  bronze(records: number, total: number): void;
  update(s: ImportSnapshot): void;
  stop(s: ImportSnapshot): void;
  readonly intervalMs: number;
}

type Payload = {
  phase: string;
  rate: number;
  rows: number;
  acked: number;
  unchanged: number;
  rejected: number;
};

export function createImportProgress(o: {
  mode: ImportProgressMode;
  /** Input size in bytes (null for stdin: no percentage). */
  total: number | null;
  logger: Logger;
  stream?: NodeJS.WriteStream;
}): ImportProgress {
  const bounded = o.total !== null;
  const reporter = new ProgressReporter<Payload>({
    mode: o.mode,
    logger: o.logger,
    stream: o.stream,
    preset: 'shades_classic',
    format: `{phase} ${bounded ? '{bar} {percentage}% | ' : ''}{rate} rows/s | rows {rows} | acked {acked} | unchanged {unchanged} | rejected {rejected} | {duration_formatted}`,
  });
  const rate = recentRate();
  if (reporter.mode === 'none') {
    return {
      phase: () => undefined,
      bronze: () => undefined,
      update: () => undefined,
      stop: () => undefined,
      intervalMs: 1000,
    };
  }
  if (reporter.mode === 'log') return logLines(o.logger, rate);
  let phase = '';
  const payload = (s: ImportSnapshot): Payload => ({
    phase,
    rate: rate(s.counts.rows),
    rows: s.counts.rows,
    acked: s.acked,
    unchanged: s.counts.unchanged,
    rejected: s.counts.rejected,
  });
  const zero: ImportSnapshot = {
    bytes: 0,
    acked: 0,
    inFlight: 0,
    counts: { rows: 0, created: 0, updated: 0, recreated: 0, unchanged: 0, rejected: 0, totalMismatches: 0 },
  };
  reporter.start(o.total ?? 0, 0, payload(zero));
  return {
    intervalMs: 500,
    phase: (text) => {
      phase = text;
      reporter.note({ phase });
    },
    bronze: (records, total) => reporter.note({ phase: `reading bronze ${records}/${total}` }),
    update: (s) => reporter.update(s.bytes, payload(s)),
    stop: (s) => {
      reporter.update(o.total ?? s.bytes, payload(s));
      reporter.stop();
    },
  };
}

/** Log mode: a line per update (every `intervalMs`), the bronze read at most every 5 s. */
function logLines(logger: Logger, rate: (rows: number) => number): ImportProgress {
  let lastBronzeLog = 0;
  return {
    intervalMs: 5000,
    phase: (text) => logger.info({}, text),
    bronze: (records, total) => {
      if (Date.now() - lastBronzeLog < 5000) return;
      lastBronzeLog = Date.now();
      logger.info({ records, total }, 'reading bronze');
    },
    update: (s) =>
      logger.info(
        { rowsPerSec: rate(s.counts.rows), bytes: s.bytes, ...s.counts, acked: s.acked },
        'importing',
      ),
    stop: () => undefined,
  };
}
