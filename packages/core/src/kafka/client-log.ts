import { logLevel as KafkaLogLevel, type LogEntry, type logCreator } from 'kafkajs';
import type { Logger } from '../logger';
import type { OutageTracker } from '../lifecycle/outage';

// kafkajs logs every protocol error it is about to retry (coordinator loading, concurrent
// transactions) at ERROR: those are warnings for us. Our own code logs real failures.
const levelName: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [KafkaLogLevel.ERROR]: 'warn',
  [KafkaLogLevel.WARN]: 'warn',
  [KafkaLogLevel.INFO]: 'info',
  [KafkaLogLevel.DEBUG]: 'debug',
};

/** The level below which kafkajs does not even build its log lines. */
export const KAFKA_LOG_LEVEL = KafkaLogLevel.WARN;

/**
 * kafkajs warns that bounding an idempotent producer's retries "may invalidate EoS guarantees".
 * Our producers bound them on purpose (a send that gives up fails its batch or aborts its
 * transaction instead of hanging), so the warning would only mislead: it is logged at debug.
 */
const BOUNDED_RETRIES_WARNING = 'Limiting retries for the idempotent producer';

/**
 * kafkajs logs every failed connection, request timeout, consumer crash and restart of an outage
 * at ERROR, many times a second while a broker is down. Those lines go to debug; a connection
 * failure is reported to the outage tracker instead, which logs once per outage (see
 * lifecycle/outage.ts). Protocol errors of a broker starting up (coordinator loading, no leader
 * yet) are retried by kafkajs and go to debug too.
 */
const CONNECTION_FAILURE =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|Connection error|Connection timeout|Closed connection|timed out|KafkaJSConnection|KafkaJSNumberOfRetriesExceeded|Failed to connect to seed broker/i;
// "Response without match": a response to a request kafkajs already gave up on (a connection it
// closed, a timeout it retried) arrives late and is dropped; nothing is lost.
const RETRIED_NOISE =
  /^Crash: |Restarting the consumer|Response without match|coordinator|not the leader|LEADER_NOT_AVAILABLE|NOT_COORDINATOR|COORDINATOR_|The group is rebalancing|Failed to find group coordinator|Response (Metadata|Heartbeat|JoinGroup|SyncGroup|OffsetCommit|LeaveGroup)/i;

export function kafkaLogDisposition(message: string, error: unknown): 'outage' | 'noise' | 'log' {
  const text = `${message} ${typeof error === 'string' ? error : ''}`;
  if (CONNECTION_FAILURE.test(text)) return 'outage';
  if (RETRIED_NOISE.test(text)) return 'noise';
  return 'log';
}

/**
 * kafkajs's own log lines routed to our structured logger: INFO chatter and retried noise at
 * debug, a connection failure to the outage tracker (when there is one), the rest as they come.
 */
export function kafkaLogCreator(logger: Logger, outages?: Pick<OutageTracker, 'failed'>): logCreator {
  const log = logger.child({ component: 'kafkajs' });
  return () =>
    ({ level, log: entry }: LogEntry) => {
      const { message, ...rest } = entry;
      const name = levelName[level] ?? 'info';
      if (name === 'info' || message.startsWith(BOUNDED_RETRIES_WARNING)) {
        log.debug(rest, message);
        return;
      }
      const disposition = kafkaLogDisposition(message, rest.error);
      if (disposition === 'log' || (disposition === 'outage' && !outages)) {
        log[name](rest, message);
        return;
      }
      log.debug(rest, message);
      if (disposition === 'outage') {
        outages?.failed('broker', new Error(typeof rest.error === 'string' ? rest.error : message));
      }
    };
}
