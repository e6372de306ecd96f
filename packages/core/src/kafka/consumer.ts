import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Consumer, ConsumerConfig, Kafka } from 'kafkajs';
import { errorMessage } from '../errors';
import type { Logger } from '../logger';
import { outageOf, type OutageTracker } from '../lifecycle/outage';
import { fencedInstanceError, isFencedInstance } from './errors';
import { kafkaLogDisposition } from './client-log';

/**
 * Every consumer of the pipeline is made here, so they all ride out a broker outage the same way:
 *
 *  - static membership (KIP-345, patched into kafkajs: patches/kafkajs+2.2.4.patch): a member id
 *    that survives restarts. A service passes its stable instance id, so a process restarted
 *    after SIGKILL takes over its predecessor's partitions at once instead of waiting out the
 *    dead member's session; other consumers get one random id per process, which still makes
 *    kafkajs's own restarts after a lost broker rejoin at once (without it, a restarted kafkajs
 *    consumer is a new member and waits out the old one's session after a broker restart);
 *  - a member with a stable instance id stays in its group when it stops (`leaveGroupOnStop`
 *    false, as the Java consumer does with a group.instance.id): a restart within the session
 *    timeout takes the partitions back without a rebalance, so the other members never pause; a
 *    member stopped for good holds its partitions until the session times out. Random per-process
 *    ids always leave (no restart could take their place);
 *  - fast, quiet restarts: kafkajs restarts a consumer that crashed on a retriable error after
 *    its retry time; the retry is capped at 1 s, so the consumer notices a broker that is back
 *    within about a second, and the crash is reported to the outage tracker (one warning per
 *    outage) instead of an error per restart;
 *  - no restart once the service is stopping (`stopping()`): kafkajs asks `restartOnFailure`,
 *    and the patched runner drops a join still in progress when the consumer is stopped, so a
 *    consumer that lost its broker does not restart forever after SIGTERM;
 *  - a consumer fenced by another process with the same instance id (FENCED_INSTANCE_ID) or any
 *    other crash kafkajs will not restart is reported through `onFatal`.
 */
export interface PipelineConsumerOptions extends Omit<ConsumerConfig, 'retry' | 'groupInstanceId'> {
  logger: Logger;
  outages?: OutageTracker;
  /** Stable per instance for a service's consumer group; default one random id per process. */
  groupInstanceId?: string;
  /**
   * With a stable `groupInstanceId`: send LeaveGroup on stop (default true). False: the member
   * stays until its session times out, so a restart within it causes no rebalance.
   */
  leaveGroupOnStop?: boolean;
  /** True once the service is stopping: a crashed consumer is then not restarted. */
  stopping: () => boolean;
  /** A crash kafkajs does not restart (a non-retriable error, or fenced by another instance). */
  onFatal?: (err: Error) => void;
}

/**
 * The long-poll wait of a long-running service's consumer (kafkajs `maxWaitTimeInMs`). It costs
 * no latency: consumers fetch with minBytes 1, so the broker answers a fetch as soon as one byte
 * is available (a produce, or for read-committed consumers a commit marker moving the last stable
 * offset) and waits the full time only when there is nothing to read. What it does set: how often an
 * idle consumer fetches (each empty fetch is about a millisecond of kafkajs CPU: 250 ms waits kept
 * an idle dashboard at ~2 % of a core), how long a stopping consumer waits for its fetch in flight
 * (kafkajs lets it finish), how soon a paused consumer notices it was resumed, and how late an
 * idle member sees a rebalance and how often it heartbeats (kafkajs heartbeats between
 * fetches: keep it well under the session timeout, at least 6 s in every service). Short-lived readers (tests, CLI commands) keep short waits: they close soon.
 */
export const IDLE_FETCH_WAIT_MS = 2000;

const processInstance = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;

/** A random static member id for this process, per group (groups without an instance of their own). */
export const processInstanceId = (): string => processInstance;

export function createPipelineConsumer(kafka: Kafka, o: PipelineConsumerOptions): Consumer {
  const { logger, outages, stopping, onFatal, groupInstanceId, leaveGroupOnStop, ...config } = o;
  const log = logger.child({ component: 'consumer', groupId: config.groupId });
  const consumer = kafka.consumer({
    ...config,
    groupInstanceId: groupInstanceId ?? processInstance,
    leaveGroupOnStop: groupInstanceId === undefined || leaveGroupOnStop !== false,
    retry: {
      initialRetryTime: 100,
      maxRetryTime: 1000,
      retries: 8,
      restartOnFailure: () => Promise.resolve(!stopping()),
    },
  });
  const ok = (): void => outages?.recovered('broker');
  consumer.on(consumer.events.GROUP_JOIN, ok);
  consumer.on(consumer.events.FETCH, ok);
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    const err = payload.error;
    if (payload.restart) {
      if (outages && outageOf(err)) outages.failed(outageOf(err)!, err, `consumer of ${config.groupId}`);
      // A broker still starting (coordinator loading, no leader yet): kafkajs retries it, and a
      // fresh stack does this on every first start. Anything else is worth a warning.
      else if (kafkaLogDisposition(errorMessage(err), undefined) === 'noise')
        log.info({ err }, 'consumer restarted: the broker is still starting');
      else log.warn({ err }, 'consumer crashed; kafkajs restarts it');
      return;
    }
    if (stopping()) {
      log.debug({ err }, 'consumer stopped after a crash while stopping');
      return;
    }
    const reason = isFencedInstance(err)
      ? fencedInstanceError(config.groupId, groupInstanceId ?? processInstance, err)
      : err;
    log.error({ err: reason }, 'consumer crashed and will not restart');
    onFatal?.(reason);
  });
  return consumer;
}
