import {
  backfillProgress,
  errorMessage,
  latestBackfill,
  type BackfillStatus,
  type ControlClient,
  type Logger,
  type OutageTracker,
  lastStableOffsets,
  type TopicNames,
  type Admin,
  type Kafka,
} from '@cdc/core';
import { committedLag, DeadLetterCounter, groupLag, lagOf } from '@cdc/observe';
import { aggregatorProgress, type DbHandle } from '@cdc/read-model';

/**
 * Pipeline health for the dashboard, polled in the background (never per request): consumer lag
 * of each stage, records in the dead-letter topic, and the aggregator's latest batch.
 *
 * - enricher: its consumer group's committed offsets on bronze (group from ENRICHER_GROUP_ID);
 * - aggregator: its applied offsets, stored in SQLite, against the end of silver;
 * - live-ui: this server's position on gold;
 * - derivation: the settings in force and the newest backfill with its progress, from the
 *   control topic (pipeline state every enricher follows) and the backfill group's offsets.
 * A value that cannot be known (group absent, database missing) is null, with the reason.
 */
export interface StageLag {
  stage: 'enricher' | 'aggregator' | 'live-ui';
  topic: string;
  lag: number | null;
  note?: string;
}

export interface PipelineHealth {
  polled_at: number | null;
  stages: StageLag[];
  dead_letters: number | null;
  aggregator_last_batch: {
    started_at: number;
    duration_ms: number;
    changes: number;
    snapshot_version: number;
  } | null;
  derivation: DerivationHealth | null;
  errors: string[];
}

/** The derivation settings in force and the newest backfill (null before any was run). */
export interface DerivationHealth {
  time_zone: string;
  rules_version: string;
  epoch: number;
  since: number;
  backfill: {
    epoch: number;
    status: BackfillStatus;
    time_zone: string;
    rules_version: string;
    from: string;
    created_at: number;
    finished_at: number | null;
    /** Bronze records re-derived so far, of `total` (null while the enrichers switch). */
    done: number | null;
    total: number | null;
  } | null;
}

export interface HealthPoller {
  current(): PipelineHealth;
  stop(): Promise<void>;
}

async function derivationHealth(
  admin: Admin,
  control: ControlClient,
  bronzeTopic: string,
): Promise<DerivationHealth | null> {
  const state = await control.read({ timeoutMs: 5000 });
  if (!state.settings) return null;
  const { time_zone, rules_version, epoch, since } = state.settings;
  const b = latestBackfill(state);
  const progress = b ? await backfillProgress(admin, b, bronzeTopic) : null;
  return {
    time_zone,
    rules_version,
    epoch,
    since,
    backfill: b && {
      epoch: b.epoch,
      status: b.status,
      time_zone: b.time_zone,
      rules_version: b.rules_version,
      from: b.from,
      created_at: b.created_at,
      finished_at: b.finished_at,
      done: progress?.done ?? null,
      total: progress?.total ?? null,
    },
  };
}

export function startHealthPoller(o: {
  kafka: Kafka;
  topics: TopicNames;
  enricherGroupId: string;
  db: DbHandle;
  goldLag: () => Map<number, number> | null;
  /** Reads the control topic (closed by stop()); null leaves `derivation` null. */
  control: ControlClient | null;
  intervalMs: number;
  logger: Logger;
  /** A poll that fails because the broker is down is an outage (one warning), not a warning per poll. */
  outages?: OutageTracker;
  /** Counts the records in the dead-letter topic as read at `readAfter` or later (see DeadLetterCounter). */
  countDeadLetters: (readAfter: number) => Promise<number>;
}): HealthPoller {
  let state: PipelineHealth = {
    polled_at: null,
    stages: [],
    dead_letters: null,
    aggregator_last_batch: null,
    derivation: null,
    errors: [],
  };
  let admin: Admin | null = null;
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  let inFlight = false;
  const deadLetterCounter = new DeadLetterCounter();

  async function poll(): Promise<void> {
    const startedAt = Date.now();
    const errors: string[] = [];
    const note = (what: string, err: unknown): null => {
      errors.push(`${what}: ${errorMessage(err)}`);
      return null;
    };
    if (!admin) {
      const a = o.kafka.admin();
      await a.connect();
      admin = a;
    }
    const a = admin;
    const bronze = await lastStableOffsets(a, o.topics.bronze).catch((e: unknown) => note('bronze', e));
    const silver = await lastStableOffsets(a, o.topics.silver).catch((e: unknown) => note('silver', e));
    const dlq = await lastStableOffsets(a, o.topics.deadLetter).catch((e: unknown) =>
      note('dead letters', e),
    );
    const deadLetters = dlq
      ? await deadLetterCounter
          .count(dlq, () => o.countDeadLetters(startedAt))
          .catch((e: unknown) => note('dead letters', e))
      : null;

    const enricher: StageLag = { stage: 'enricher', topic: o.topics.bronze, lag: null };
    if (bronze) {
      enricher.lag = await groupLag(a, o.enricherGroupId, o.topics.bronze, { ends: bronze }).then(
        committedLag,
        (e: unknown) => note('enricher lag', e),
      );
      if (enricher.lag === null) enricher.note = `no offsets committed by group ${o.enricherGroupId}`;
    }

    const aggregator: StageLag = { stage: 'aggregator', topic: o.topics.silver, lag: null };
    let lastBatch: PipelineHealth['aggregator_last_batch'] = null;
    try {
      const progress = aggregatorProgress(o.db);
      lastBatch = progress.lastBatch;
      if (silver) {
        const applied = new Map(
          progress.offsets
            .filter((r) => r.topic === o.topics.silver)
            .map((r) => [r.partition, { offset: r.next_offset }]),
        );
        aggregator.lag = lagOf(silver, applied).total;
      }
    } catch (err) {
      aggregator.note = errorMessage(err);
    }

    const gold = o.goldLag();
    const ui: StageLag = {
      stage: 'live-ui',
      topic: o.topics.gold,
      lag: gold ? [...gold.values()].reduce((s, n) => s + n, 0) : null,
    };

    let derivation: DerivationHealth | null = null;
    if (o.control) {
      try {
        derivation = await derivationHealth(a, o.control, o.topics.bronze);
      } catch (err) {
        note('derivation settings', err);
      }
    }

    state = {
      polled_at: Date.now(),
      stages: [enricher, aggregator, ui],
      dead_letters: deadLetters,
      aggregator_last_batch: lastBatch,
      derivation,
      errors,
    };
    if (errors.length === 0) o.outages?.recovered('broker');
  }

  const tick = (): void => {
    if (stopped || inFlight) return;
    inFlight = true;
    running = poll()
      .catch((err: unknown) => {
        if (!o.outages?.report(err, 'polling pipeline health'))
          o.logger.warn({ err }, 'pipeline health poll failed');
        state = { ...state, errors: [errorMessage(err)] };
        const a = admin;
        admin = null;
        return a?.disconnect().catch(() => undefined);
      })
      .then(() => {
        inFlight = false;
      });
  };
  tick();
  const timer = setInterval(tick, o.intervalMs);
  timer.unref();

  return {
    current: () => state,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
      await admin?.disconnect().catch(() => undefined);
      admin = null;
      await o.control?.close().catch(() => undefined);
    },
  };
}
