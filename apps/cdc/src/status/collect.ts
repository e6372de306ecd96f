import { existsSync } from 'node:fs';
import {
  registryAuthHeaders,
  backfillProgress,
  commitTimeOf,
  createControlClient,
  createKafka,
  createRegistryClient,
  describeRetention,
  errorMessage,
  latestBackfill,
  readRanges,
  lastStableOffsets,
  topicNames,
  type ConnectionConfig,
  type Logger,
  type PartitionEnds,
  type TopicNames,
  type Admin,
  type Kafka,
} from '@cdc/core';
import { committedLag, DeadLetterCounter, groupLag, readDeadLetterCount } from '@cdc/observe';
import { newestEventTime, openReadOnly, recentBatches } from '@cdc/read-model';
import { verdict, type GroupStatus, type StatusLimits, type StatusReport, type TopicStatus } from './report';

export interface CollectOptions {
  connection: ConnectionConfig;
  logger: Logger;
  dbPath: string;
  enricherGroupId: string;
  aggregatorGroupId: string;
  /** The broker's version when it is the local stack's (Kafka does not tell clients its version). */
  localKafkaVersion: string | null;
  limits: StatusLimits;
  /** Earliest record times already read (kept across `--watch` refreshes). */
  earliestCache?: Map<string, number | null>;
  /** The dead letters counted so far (kept across `--watch` refreshes: read again when they moved). */
  deadLetters?: DeadLetterCounter;
  now?: () => number;
}

const ROLES: [TopicStatus['role'], keyof TopicNames][] = [
  ['bronze', 'bronze'],
  ['silver', 'silver'],
  ['gold', 'gold'],
  ['dead-letter', 'deadLetter'],
  ['control', 'control'],
];
const isoOf = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
const BATCHES_SHOWN = 5;

async function registryStatus(
  target: Pick<ConnectionConfig, 'registryUrl' | 'registrySecurity'>,
): Promise<StatusReport['stack']['registry']> {
  const url = target.registryUrl;
  const signal = () => AbortSignal.timeout(2000);
  try {
    await createRegistryClient(target, { timeoutMs: 2000 }).subjects();
  } catch (err) {
    return { url, up: false, version: null, error: errorMessage(err) };
  }
  // The version is a nicety: asked with the same credentials (a registry behind a custom CA goes
  // without it, as fetch() takes no CA of its own).
  const headers = registryAuthHeaders(target.registrySecurity);
  let version: string | null = null;
  for (const info of [`${new URL(url).origin}/apis/registry/v3/system/info`, `${url}/v1/metadata/version`]) {
    try {
      const res = await fetch(info, { signal: signal(), headers });
      if (!res.ok) continue;
      const body = (await res.json()) as { name?: string; version?: string };
      if (body.version) {
        version = body.name ? `${body.name.replace(/ \(.*\)$/, '')} ${body.version}` : body.version;
        break;
      }
    } catch {
      /* no version endpoint */
    }
  }
  return { url, up: true, version, error: null };
}

async function earliestTimes(
  kafka: Kafka,
  admin: Admin,
  topic: string,
  offsets: { partition: number; low: number; high: number }[],
  cache: Map<string, number | null>,
  groupPrefix: string,
): Promise<number | null> {
  const todo = offsets.filter((p) => p.high > p.low && !cache.has(`${topic}/${p.partition}/${p.low}`));
  if (todo.length > 0) {
    const found = new Map<number, number>();
    await readRanges({
      kafka,
      admin,
      topic,
      groupPrefix,
      // A few offsets: the earliest may be a transaction marker rather than a record.
      ranges: todo.map((p) => ({ partition: p.partition, start: p.low, end: Math.min(p.high, p.low + 100) })),
      handle: (partition, messages) => {
        if (!found.has(partition) && messages[0]) found.set(partition, Number(messages[0].timestamp));
      },
      maxBytesPerPartition: 64 * 1024,
    });
    for (const p of todo) cache.set(`${topic}/${p.partition}/${p.low}`, found.get(p.partition) ?? null);
  }
  const times = offsets
    .map((p) => cache.get(`${topic}/${p.partition}/${p.low}`))
    .filter((t): t is number => typeof t === 'number');
  return times.length ? Math.min(...times) : null;
}

/**
 * When the oldest record a group has not committed yet was written (its record timestamp: the
 * time it was sent to the topic, so the wait between topics, whatever its event time); null when
 * none waits. Reads the first records after each lagging partition's committed offset.
 */
async function oldestWaiting(
  kafka: Kafka,
  admin: Admin,
  topic: string,
  pending: { partition: number; start: number; end: number }[],
  groupPrefix: string,
): Promise<number | null> {
  if (pending.length === 0) return null;
  let oldest: number | null = null;
  await readRanges({
    kafka,
    admin,
    topic,
    groupPrefix,
    // A few offsets: the committed one may be a transaction marker rather than a record.
    ranges: pending.map((p) => ({
      partition: p.partition,
      start: p.start,
      end: Math.min(p.end, p.start + 100),
    })),
    handle: (_partition, messages) => {
      const t = messages[0] ? Number(messages[0].timestamp) : null;
      if (t !== null && (oldest === null || t < oldest)) oldest = t;
    },
    maxBytesPerPartition: 64 * 1024,
  });
  return oldest;
}

async function groupStatus(
  g: { kafka: Kafka; admin: Admin; groupPrefix: string; now: number },
  stage: GroupStatus['stage'],
  group: string,
  topic: string,
  ends: readonly PartitionEnds[],
): Promise<GroupStatus> {
  const { admin } = g;
  const [described] = (await admin.describeGroups([group])).groups;
  const lag = await groupLag(admin, group, topic, { ends });
  const times = lag.partitions.map((p) => commitTimeOf(p.metadata)).filter((t): t is number => t !== null);
  const low = new Map(ends.map((e) => [e.partition, e.low]));
  const pending = lag.partitions
    .filter((p) => p.end > (p.committed ?? low.get(p.partition) ?? 0))
    .map((p) => ({ partition: p.partition, start: p.committed ?? low.get(p.partition) ?? 0, end: p.end }));
  let oldest: number | null = null;
  let waitKnown = true;
  try {
    oldest = await oldestWaiting(g.kafka, admin, topic, pending, g.groupPrefix);
  } catch {
    waitKnown = false;
  }
  return {
    stage,
    group,
    topic,
    state: described?.state ?? 'Unknown',
    members: described?.members.length ?? 0,
    lag: committedLag(lag),
    partitions: lag.partitions.map((p) => ({
      partition: p.partition,
      committed: p.committed,
      end: p.end,
      lag: p.lag,
    })),
    last_commit_at: isoOf(times.length > 0 ? Math.max(0, ...times) : null),
    oldest_waiting_at: isoOf(oldest),
    wait_ms: !waitKnown ? null : oldest === null ? 0 : Math.max(0, g.now - oldest),
  };
}

/** Everything `cdc status` shows; never throws for an unreachable part (it says so instead). */
export async function collectStatus(o: CollectOptions): Promise<StatusReport> {
  const now = (o.now ?? Date.now)();
  const names = topicNames(o.connection.topicPrefix);
  const quiet = o.logger.child({}, { level: 'silent' });
  const address = o.connection.brokers.join(',');
  const registry = await registryStatus(o.connection);
  const report: Omit<StatusReport, 'healthy' | 'reasons'> = {
    generated_at: new Date(now).toISOString(),
    stack: {
      broker: { address, up: false, brokers: null, version: null, error: null },
      registry,
    },
    topics: [],
    groups: [],
    aggregator: { db: o.dbPath, batches: [], error: null },
    dead_letters: null,
    freshness: { newest_event_at: null, event_age_ms: null },
    backfill: null,
  };

  // The aggregator's database: its last batches and the newest event time it put into gold.
  if (!existsSync(o.dbPath)) report.aggregator.error = `${o.dbPath} does not exist (the aggregator's --db)`;
  else {
    try {
      const db = openReadOnly(o.dbPath);
      try {
        report.aggregator.batches = recentBatches(db, BATCHES_SHOWN).map((b) => ({
          at: new Date(b.started_at).toISOString(),
          changes: b.changes,
          applied: b.applied,
          duration_ms: b.duration_ms,
        }));
        const newest = newestEventTime(db);
        report.freshness = {
          newest_event_at: isoOf(newest),
          event_age_ms: newest === null ? null : Math.max(0, now - newest),
        };
      } finally {
        db.close();
      }
    } catch (err) {
      report.aggregator.error = errorMessage(err);
    }
  }

  const kafka = createKafka(o.connection, quiet, { retries: 0, connectionTimeoutMs: 1500 });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    report.stack.broker = {
      address,
      up: true,
      brokers: cluster.brokers.length,
      version: o.localKafkaVersion,
      error: null,
    };
  } catch (err) {
    report.stack.broker.error = errorMessage(err);
    await admin.disconnect().catch(() => undefined);
    return { ...report, healthy: false, reasons: verdict(report, o.limits) };
  }
  try {
    const existing = new Set(await admin.listTopics());
    const retention = new Map(
      (
        await describeRetention(
          admin,
          ROLES.map(([, k]) => names[k]).filter((t) => existing.has(t)),
        )
      ).map((r) => [r.topic, r]),
    );
    const ends = new Map<string, PartitionEnds[]>();
    const cache = o.earliestCache ?? new Map<string, number | null>();
    for (const [role, key] of ROLES) {
      const name = names[key];
      if (!existing.has(name)) {
        report.topics.push({
          role,
          name,
          exists: false,
          partitions: 0,
          retention_ms: null,
          cleanup_policy: null,
          earliest_retained_at: null,
          end_offsets: [],
        });
        continue;
      }
      const offsets = await lastStableOffsets(admin, name);
      ends.set(name, offsets);
      const r = retention.get(name);
      const earliest =
        role === 'control'
          ? null
          : await earliestTimes(
              kafka,
              admin,
              name,
              offsets,
              cache,
              `${o.connection.topicPrefix}cdc-status`,
            ).catch(() => null);
      report.topics.push({
        role,
        name,
        exists: true,
        partitions: offsets.length,
        retention_ms: r?.retentionMs ?? null,
        cleanup_policy: r?.cleanupPolicy ?? null,
        earliest_retained_at: isoOf(earliest),
        end_offsets: offsets.map((p) => p.high),
      });
      if (role === 'dead-letter')
        report.dead_letters = await (o.deadLetters ?? new DeadLetterCounter()).count(
          offsets,
          readDeadLetterCount({ kafka, topic: name, groupPrefix: `${o.connection.topicPrefix}cdc-status` }),
        );
    }

    const g = { kafka, admin, groupPrefix: `${o.connection.topicPrefix}cdc-status`, now };
    const bronzeEnds = ends.get(names.bronze);
    const silverEnds = ends.get(names.silver);
    if (bronzeEnds)
      report.groups.push(await groupStatus(g, 'enricher', o.enricherGroupId, names.bronze, bronzeEnds));
    if (silverEnds)
      report.groups.push(await groupStatus(g, 'aggregator', o.aggregatorGroupId, names.silver, silverEnds));

    // A backfill not finished yet (the control topic): its group and progress.
    if (registry.up && existing.has(names.control)) {
      const control = createControlClient({
        kafka,
        registry: createRegistryClient(o.connection, { timeoutMs: 2000 }),
        topic: names.control,
        logger: quiet,
        groupPrefix: `${o.connection.topicPrefix}cdc-status`,
      });
      try {
        const b = latestBackfill(await control.read({ timeoutMs: 10_000 }));
        if (b && b.status !== 'FINISHED') {
          const progress = b.status === 'RUNNING' ? await backfillProgress(admin, b, names.bronze) : null;
          report.backfill = {
            epoch: b.epoch,
            status: b.status,
            time_zone: b.time_zone,
            rules_version: b.rules_version,
            done: progress?.done ?? null,
            total: progress?.total ?? null,
          };
          if (bronzeEnds)
            report.groups.push(await groupStatus(g, 'backfill', b.group_id, names.bronze, bronzeEnds));
        }
      } finally {
        await control.close();
      }
    }
  } catch (err) {
    report.stack.broker.error = errorMessage(err);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  const reasons = verdict(report, o.limits);
  return { ...report, healthy: reasons.length === 0, reasons };
}
