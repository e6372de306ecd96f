import pino from 'pino';

export type Logger = pino.Logger;
/** Where log lines are written: anything with `write(line)`. */
export type LogDestination = pino.DestinationStream;
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
/**
 * `pino`: pino's own lines (`time` in epoch milliseconds, `level` a number), what pino-pretty and
 * pino's tools read. `iso`: `time` as ISO-8601 UTC and `level` as its name, what log shippers
 * (Loki, ELK) and people read without a decoder.
 */
export type LogFormat = 'pino' | 'iso';

/**
 * Structured JSON logs on stderr (stdout stays free for command output), or on `destination`
 * (`cdc start` sends its own to a file). Errors go under `err` and are serialized by pino's err
 * serializer: type, message, stack, cause and the error's own fields, so a CdcError's `code`
 * (and `retriable`) are in the line.
 */
export function createLogger(
  service: string,
  level: LogLevel = 'info',
  format: LogFormat = 'pino',
  destination: LogDestination = pino.destination(2),
): Logger {
  return pino(
    {
      name: service,
      level,
      base: { service, pid: process.pid },
      serializers: { err: pino.stdSerializers.errWithCause },
      ...(format === 'iso'
        ? {
            timestamp: pino.stdTimeFunctions.isoTime,
            formatters: { level: (label: string) => ({ level: label }) },
          }
        : {}),
    },
    destination,
  );
}
