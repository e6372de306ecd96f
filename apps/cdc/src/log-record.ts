/**
 * One line of a service's output as `cdc start` sees it: a pino JSON record (either LOG_FORMAT)
 * or plain text (a command's own output, `error [CODE]: …`). Pure: what the terminal shows of a
 * line while the full line goes to the service's log file (start-console.ts).
 */

const LEVEL_NAMES: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};
const LEVEL_VALUES: Record<string, number> = Object.fromEntries(
  Object.entries(LEVEL_NAMES).map(([value, name]) => [name, Number(value)]),
);
export const WARN_LEVEL = 40;

export interface LogRecord {
  /** pino's numeric level (30 info, 40 warn, 50 error); the name is mapped (LOG_FORMAT=iso). */
  level: number;
  msg: string;
  fields: Record<string, unknown>;
}

/** The record in a JSON log line; null for plain text. */
export function parseLogLine(line: string): LogRecord | null {
  if (!line.startsWith('{')) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  const fields = parsed as Record<string, unknown>;
  const level =
    typeof fields.level === 'number'
      ? fields.level
      : typeof fields.level === 'string'
        ? (LEVEL_VALUES[fields.level] ?? 30)
        : 30;
  return { level, msg: typeof fields.msg === 'string' ? fields.msg : '', fields };
}

/** Plain text a person must see: a command's error or warning line. */
const PLAIN_ALERT = /^(error|warning)\b/i;

/** Whether the terminal shows this line while the pipeline runs quietly: warnings and errors only. */
export function isAlert(line: string): boolean {
  const r = parseLogLine(line);
  return r === null ? PLAIN_ALERT.test(line) : r.level >= WARN_LEVEL;
}

const MAX_DETAIL_CHARS = 200;

/** What an error field says in a line: `Type: message (CODE)`. */
function errorSummary(err: unknown): string | null {
  if (typeof err === 'string') return err.split('\n')[0] ?? '';
  if (typeof err !== 'object' || err === null) return null;
  const e = err as Record<string, unknown>;
  const type = typeof e.type === 'string' ? e.type : typeof e.name === 'string' ? e.name : 'Error';
  const message = typeof e.message === 'string' ? (e.message.split('\n')[0] ?? '') : '';
  const code = typeof e.code === 'string' || typeof e.code === 'number' ? ` (${e.code})` : '';
  return `${type}: ${message}${code}`;
}

const clip = (s: string): string => (s.length > MAX_DETAIL_CHARS ? `${s.slice(0, MAX_DETAIL_CHARS)}…` : s);

/**
 * One terminal line for a service's line: `[enricher] warn: consumer crashed (KafkaJSProtocolError: …)`.
 * A record's error (pino's `err`) is summarised by type, message and code; its stack and other
 * fields stay in the log file.
 */
export function oneLine(service: string, line: string): string {
  const r = parseLogLine(line);
  if (r === null) return `[${service}] ${line}`;
  const level = LEVEL_NAMES[r.level] ?? String(r.level);
  const err = errorSummary(r.fields.err);
  return `[${service}] ${level}: ${r.msg}${err ? ` (${clip(err)})` : ''}`;
}
