import pino from 'pino';
import type { Logger, LogLevel } from '@cdc/core';

/**
 * The logger handed to kafkajs: like the service's (JSON on stderr, same level), minus one
 * warning. kafkajs warns that limiting an idempotent producer's retries "may invalidate EoS
 * guarantees"; the sender bounds them on purpose and stops the run at the first failed send,
 * so nothing is produced after a gap and the warning would only mislead.
 */
const SILENCED = 'Limiting retries for the idempotent producer';

export function kafkaLogger(level: LogLevel): Logger {
  return pino(
    {
      name: 'producer',
      level,
      base: { service: 'producer', pid: process.pid },
      hooks: {
        logMethod(args, method) {
          if (args.some((a) => typeof a === 'string' && a.startsWith(SILENCED))) return;
          method.apply(this, args);
        },
      },
    },
    pino.destination(2),
  );
}
