import type { Admin, Kafka } from 'kafkajs';
import { errorMessage, type Logger, type TopicNames } from '@cdc/core';
import type { StaleFacts } from './engine/evaluate';

/**
 * Samples what the pipeline's topics say, on the wall clock, every interval (never per record):
 * - the dead-letter topic's end offsets (their sum only grows: new dead letters);
 * - records waiting: the enricher group's lag on bronze plus the aggregator group's on silver (its
 *   Kafka commits, made for monitoring; a transaction marker at the end of a silver partition is
 *   not a waiting record, so one record per partition is forgiven);
 * - freshness: while records wait, how far gold's newest event time is behind now.
 * A sample that fails is skipped (logged once until one succeeds again).
 */
export interface PipelineSample {
  deadLetterEnd: number | null;
  stale: StaleFacts;
}

export interface Probe {
  stop(): Promise<void>;
}

type Ends = { partition: number; high: number; low: number }[];

async function ends(admin: Admin, topic: string): Promise<Ends> {
  return (await admin.fetchTopicOffsets(topic)).map((p) => ({
    partition: p.partition,
    high: Number(p.high),
    low: Number(p.low),
  }));
}

async function lag(
  admin: Admin,
  groupId: string,
  topic: string,
  e: Ends,
  forgive: number,
): Promise<number | null> {
  const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
  const done = new Map<number, number>();
  for (const t of committed) for (const p of t.partitions) done.set(p.partition, Number(p.offset));
  if (![...done.values()].some((x) => x >= 0)) return null;
  let sum = 0;
  for (const p of e) {
    const c = done.get(p.partition) ?? -1;
    sum += Math.max(0, p.high - (c < 0 ? p.low : c) - forgive);
  }
  return sum;
}

export function startProbe(o: {
  kafka: Kafka;
  topics: TopicNames;
  enricherGroupId: string;
  aggregatorGroupId: string;
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

  async function sample(): Promise<void> {
    if (!admin) {
      const a = o.kafka.admin();
      await a.connect();
      admin = a;
    }
    const a = admin;
    const [dlq, bronze, silver] = await Promise.all([
      ends(a, o.topics.deadLetter),
      ends(a, o.topics.bronze),
      ends(a, o.topics.silver),
    ]);
    const [enricher, aggregator] = await Promise.all([
      lag(a, o.enricherGroupId, o.topics.bronze, bronze, 0),
      lag(a, o.aggregatorGroupId, o.topics.silver, silver, 1),
    ]);
    const now = Date.now();
    const waiting = enricher === null && aggregator === null ? null : (enricher ?? 0) + (aggregator ?? 0);
    const newest = o.newestEventTs();
    o.onSample(
      {
        deadLetterEnd: dlq.reduce((s, p) => s + p.high, 0),
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
          if (!failing)
            o.logger.warn(
              { err: errorMessage(err) },
              'cannot sample the pipeline (dead letters, lag); retrying',
            );
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
