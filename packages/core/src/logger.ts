import pino from 'pino';

export type Logger = pino.Logger;
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** Structured JSON logs on stderr (stdout stays free for command output). */
export function createLogger(service: string, level: LogLevel = 'info'): Logger {
  return pino({ name: service, level, base: { service, pid: process.pid } }, pino.destination(2));
}
