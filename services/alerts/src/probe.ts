import { lastStableOffsets, type Logger, type TopicNames, type Admin, type Kafka } from '@cdc/core';
import { committedLag, DeadLetterCounter, groupLag, readDeadLetterCount } from '@cdc/observe';
import type { StaleFacts } from './engine/evaluate';

/**
 * Samples what the pipeline's topics say, on the wall clock, every interval (never per record):
 * - the dead letters in their topic (records, counted again when its offsets moved: a count that
 *   grew says new dead letters);
 * - records waiting: the enricher group's lag on bronze plus the aggregator group's on silver (its
 *   Kafka commits, made for monitoring; a transaction marker at the end of a silver partition is
 *   not a waiting record, so one record per partition is forgiven);
 * - freshness: while records wait, how far gold's newest event time is behind now.
 * A sample that fails is skipped (logged once until one succeeds again).
 */
export interface PipelineSample {
  deadLetters: number;
  stale: StaleFacts;
}

export interface Probe {
  stop(): Promise<void>;
}

export function startProbe(o: {
  kafka: Kafka;
  topics: TopicNames;
  enricherGroupId: string;
  aggregatorGroupId: string;
  /** Prefix of the throw-away groups that read the dead-letter topic to count its records. */
  readerGroupPrefix: string;
  intervalMs: number;
  /** Gold's newest event time so far (null: none yet). */
  newestEventTs: () => number | null;
  logger: Logger;
  onSample(s: PipelineSample, wallMs: number): void;
}): Probe {
  let admin: Admin | null = null;
  let failing = false;
  let stopped = false;
  let inFlight = false;
  let running: Promise<void> = Promise.resolve();
  const deadLetters = new DeadLetterCounter();
  const readDeadLetters = readDeadLetterCount({
    kafka: o.kafka,
    topic: o.topics.deadLetter,
    groupPrefix: o.readerGroupPrefix,
  });

  async function sample(): Promise<void> {
    if (!admin) {
      const a = o.kafka.admin();
      await a.connect();
      admin = a;
    }
    const a = admin;
    const [dlq, bronze, silver] = await Promise.all([
      lastStableOffsets(a, o.topics.deadLetter),
      lastStableOffsets(a, o.topics.bronze),
      lastStableOffsets(a, o.topics.silver),
    ]);
    const [enricher, aggregator, deadLetterCount] = await Promise.all([
      groupLag(a, o.enricherGroupId, o.topics.bronze, { ends: bronze }).then(committedLag),
      groupLag(a, o.aggregatorGroupId, o.topics.silver, { ends: silver, forgive: 1 }).then(committedLag),
      deadLetters.count(dlq, readDeadLetters),
    ]);
    const now = Date.now();
    const waiting = enricher === null && aggregator === null ? null : (enricher ?? 0) + (aggregator ?? 0);
    const newest = o.newestEventTs();
    o.onSample(
      {
        deadLetters: deadLetterCount,
        stale: {
          lag: waiting,
          freshnessMs:
            waiting === null ? null : waiting > 0 && newest !== null ? Math.max(0, now - newest) : 0,
        },
      },
      now,
    );
  }

  const tick = (): void => {
    if (stopped || inFlight) return;
    inFlight = true;
    running = sample()
      .then(
        () => {
          if (failing) o.logger.info('pipeline sampling works again');
          failing = false;
        },
        async (err: unknown) => {
          if (!failing) o.logger.warn({ err }, 'cannot sample the pipeline (dead letters, lag); retrying');
          failing = true;
          const a = admin;
          admin = null;
          await a?.disconnect().catch(() => undefined);
        },
      )
      .finally(() => {
        inFlight = false;
      });
  };
  tick();
  const timer = setInterval(tick, o.intervalMs);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
      await admin?.disconnect().catch(() => undefined);
    },
  };
}
