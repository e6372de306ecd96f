import { Presets, SingleBar } from 'cli-progress';
import type { Logger } from '@cdc/core';
import type { ImportCounts } from './checkpoint';

/**
 * Progress of an import: a cli-progress bar on a terminal (bytes of the input read, rows per
 * second, records acknowledged, skipped and rejected), else a structured log line every few
 * seconds, or nothing.
 */
export type ImportProgressMode = 'auto' | 'bar' | 'log' | 'none';

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

export function createImportProgress(o: {
  mode: ImportProgressMode;
  /** Input size in bytes (null for stdin: no percentage). */
  total: number | null;
  logger: Logger;
  stream?: NodeJS.WriteStream;
}): ImportProgress {
  const stream = o.stream ?? process.stderr;
  const mode = o.mode === 'auto' ? (stream.isTTY ? 'bar' : 'log') : o.mode;
  let last = { t: Date.now(), rows: 0 };
  const rate = (rows: number): number => {
    const now = Date.now();
    const r = now > last.t ? ((rows - last.rows) * 1000) / (now - last.t) : 0;
    last = { t: now, rows };
    return Math.round(r);
  };
  if (mode === 'none') {
    return {
      phase: () => undefined,
      bronze: () => undefined,
      update: () => undefined,
      stop: () => undefined,
      intervalMs: 1000,
    };
  }
  if (mode === 'log') {
    let lastBronzeLog = 0;
    return {
      intervalMs: 5000,
      phase: (text) => o.logger.info({}, text),
      bronze: (records, total) => {
        if (Date.now() - lastBronzeLog < 5000) return;
        lastBronzeLog = Date.now();
        o.logger.info({ records, total }, 'reading bronze');
      },
      update: (s) =>
        o.logger.info(
          { rowsPerSec: rate(s.counts.rows), bytes: s.bytes, ...s.counts, acked: s.acked },
          'importing',
        ),
      stop: () => undefined,
    };
  }
  const bounded = o.total !== null;
  const bar = new SingleBar(
    {
      stream,
      hideCursor: true,
      clearOnComplete: false,
      format: `{phase} ${bounded ? '{bar} {percentage}% | ' : ''}{rate} rows/s | rows {rows} | acked {acked} | unchanged {unchanged} | rejected {rejected} | {duration_formatted}`,
    },
    Presets.shades_classic,
  );
  let phase = '';
  const payload = (s: ImportSnapshot) => ({
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
  bar.start(o.total ?? 0, 0, payload(zero));
  return {
    intervalMs: 500,
    phase: (text) => {
      phase = text;
      bar.update({ phase });
    },
    bronze: (records, total) => bar.update({ phase: `reading bronze ${records}/${total}` }),
    update: (s) => bar.update(s.bytes, payload(s)),
    stop: (s) => {
      bar.update(o.total ?? s.bytes, payload(s));
      bar.stop();
    },
  };
}
