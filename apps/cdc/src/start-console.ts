import { createWriteStream, existsSync, mkdirSync, renameSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import { prettyFactory } from 'pino-pretty';
import type { LogDestination } from '@cdc/core';
import { isAlert, oneLine } from './log-record';

/**
 * What `cdc start` shows in the terminal, and where the services' logs go.
 *
 * - Quiet (the default): the terminal gets `cdc start`'s own progress lines (`say`), then only
 *   warnings and errors, one line each (log-record.ts). Every line of every service, and of
 *   `cdc start` itself, goes to its file under the log folder (`data/logs/enricher.log`, …). A
 *   file from the previous run is kept as `<name>.log.1`, so each file holds one run.
 * - Verbose (`--verbose`): every service's log shown in the terminal, readably, with its name
 *   (pino-pretty), and `cdc start`'s own JSON log on stderr; no files.
 */
export interface StartConsole {
  readonly verbose: boolean;
  /** A progress line for the user (stdout). */
  say(line: string): void;
  /** One output line of a service (or of `cdc start` itself as `start`). */
  line(service: string, line: string): void;
  /** Where `cdc start`'s own logger writes (undefined: stderr, as every command). */
  destination(service: string): LogDestination | undefined;
  /** The log file of a service (quiet mode), relative to the working directory when under it. */
  logFile(service: string): string;
  readonly logDir: string;
  /** Ends the files (their last lines are written first). */
  close(): Promise<void>;
}

export interface StartConsoleOptions {
  verbose: boolean;
  logDir: string;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
}

/** A path as the user gave it or relative to the working directory: short enough for one line. */
const shown = (p: string): string => {
  const rel = path.relative(process.cwd(), p);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : p;
};

export function startConsole(o: StartConsoleOptions): StartConsole {
  const stdout = o.stdout ?? process.stdout;
  const stderr = o.stderr ?? process.stderr;
  const logDir = path.resolve(o.logDir);
  const files = new Map<string, WriteStream>();
  const fileOf = (service: string): string => path.join(logDir, `${service}.log`);

  const open = (service: string): WriteStream => {
    let file = files.get(service);
    if (file) return file;
    mkdirSync(logDir, { recursive: true });
    const name = fileOf(service);
    if (existsSync(name)) renameSync(name, `${name}.1`);
    file = createWriteStream(name, { flags: 'a' });
    files.set(service, file);
    return file;
  };

  const pretty = prettyFactory({
    colorize: 'isTTY' in stdout && stdout.isTTY === true,
    ignore: 'pid,hostname,service',
    translateTime: 'HH:MM:ss.l',
  });

  const line = (service: string, text: string): void => {
    if (!text.trim()) return;
    if (o.verbose) {
      const out = text.startsWith('{') ? pretty(text).trimEnd() : text;
      stdout.write(`[${service}] ${out}\n`);
      return;
    }
    open(service).write(`${text}\n`);
    if (isAlert(text)) stderr.write(`${oneLine(service, text)}\n`);
  };

  return {
    verbose: o.verbose,
    logDir: shown(logDir),
    say: (text) => stdout.write(`${text}\n`),
    line,
    destination: (service) =>
      o.verbose
        ? undefined
        : {
            write: (chunk: string) => {
              for (const l of chunk.split('\n')) line(service, l);
            },
          },
    logFile: (service) => shown(fileOf(service)),
    close: async () => {
      await Promise.all(
        [...files.values()].map((f) => new Promise<void>((resolve) => f.end(() => resolve()))),
      );
      files.clear();
    },
  };
}
