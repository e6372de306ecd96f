import { Presets, SingleBar } from 'cli-progress';
import type { Logger } from '@cdc/core';

/**
 * Progress of a long command (a rebuild, a backfill, a produce or import run), drawn one way: a
 * cli-progress bar on stderr when it is a terminal, otherwise a structured log line at most every
 * few seconds (a service manager's logs stay readable), or nothing. Each command keeps its own bar
 * format and log fields; this draws them and decides when a log line is due.
 */
export type ProgressMode = 'auto' | 'bar' | 'log' | 'none';

export interface ProgressReporterOptions {
  /** `auto` (default): a bar on a terminal, log lines otherwise. */
  mode?: ProgressMode;
  logger: Logger;
  stream?: NodeJS.WriteStream;
  /** The bar's cli-progress format: its tokens ({bar}, {percentage}, {value}, {eta_formatted} …) and payload fields. */
  format: string;
  /** The bar's look: cli-progress's `legacy` (default) or `shades_classic` preset. */
  preset?: 'legacy' | 'shades_classic';
  /** Updates the ETA is averaged over (cli-progress's default: 10). */
  etaBuffer?: number;
  /** At most one log line this often (0: every call), unless a line is forced. */
  logEveryMs?: number;
}

export class ProgressReporter<Payload extends object = Record<string, unknown>> {
  readonly mode: 'bar' | 'log' | 'none';
  private readonly bar: SingleBar | null;
  private started = false;
  private loggedAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly o: ProgressReporterOptions) {
    const stream = o.stream ?? process.stderr;
    const mode = o.mode ?? 'auto';
    this.mode = mode === 'auto' ? (stream.isTTY ? 'bar' : 'log') : mode;
    this.bar =
      this.mode === 'bar'
        ? new SingleBar(
            {
              stream,
              format: o.format,
              hideCursor: true,
              ...(o.etaBuffer !== undefined ? { etaBuffer: o.etaBuffer } : {}),
            },
            o.preset === 'shades_classic' ? Presets.shades_classic : Presets.legacy,
          )
        : null;
  }

  /** Shows the bar at `value` of `total` (a bar started by `update` starts at its first value). */
  start(total: number, value: number, payload: Payload): void {
    this.bar?.start(total, value, payload);
    this.started = true;
  }

  /** Moves the bar to `value`; the first update starts it, at `total`. */
  update(value: number, payload: Payload, total = 0): void {
    if (!this.bar) return;
    if (!this.started) this.start(total, value, payload);
    else this.bar.update(value, payload);
  }

  /** Changes what the bar shows besides its value (a phase). */
  note(payload: Partial<Payload>): void {
    this.bar?.update(payload);
  }

  /** Logs `message` with `fields` when a line is due (or `force`d); in log mode only. */
  log(message: string, fields: Record<string, unknown>, force = false): void {
    if (this.mode !== 'log') return;
    const now = Date.now();
    if (!force && now - this.loggedAt < (this.o.logEveryMs ?? 0)) return;
    this.loggedAt = now;
    this.o.logger.info(fields, message);
  }

  /** Ends the bar (it stays on screen). */
  stop(): void {
    this.bar?.stop();
  }
}

/** Per second, of a count that grows: since the previous call. */
export function recentRate(now: () => number = Date.now): (count: number) => number {
  let last = { t: now(), count: 0 };
  return (count) => {
    const t = now();
    const r = t > last.t ? ((count - last.count) * 1000) / (t - last.t) : 0;
    last = { t, count };
    return Math.round(r);
  };
}
