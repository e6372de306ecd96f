import { CdcError, createKafka, withAdmin, type ConnectionConfig, type Logger } from '@cdc/core';
import { sourceTopicName } from '../config';
import { ConnectRest, type ConnectorStatus } from './connect-rest';
import {
  connectorOffset,
  connectorStatus,
  POSTGRES_CONNECTOR_CLASS,
  putConnector,
  removeConnector,
  sourceNames,
  sourceTable,
  type SourcePlan,
} from './connector';
import {
  checkSource,
  connectDatabase,
  databaseTarget,
  dropSlotAndPublication,
  slotState,
  type SlotState,
} from './database';

/** Where the source is and what to call it: DATABASE_URL (or libpq's variables), CONNECT_URL, TOPIC_PREFIX. */
export interface SourceSettings {
  connection: ConnectionConfig;
  databaseUrl: string | undefined;
  /** The database as the Connect worker reaches it, when not as this host does (default databaseUrl). */
  connectDatabaseUrl?: string | undefined;
  connectUrl: string;
  snapshotMode?: SourcePlan['snapshotMode'];
}

/** Source topic: what Debezium writes between snapshots; bronze is the history, so a week suffices. */
const SOURCE_TOPIC_RETENTION_MS = 7 * 24 * 3_600_000;

export function planSource(s: SourceSettings): SourcePlan {
  return {
    ...sourceNames(s.connection.topicPrefix),
    database: databaseTarget(s.databaseUrl),
    connectorDatabase: databaseTarget(s.connectDatabaseUrl ?? s.databaseUrl),
    table: sourceTable,
    sourceTopic: sourceTopicName(s.connection.topicPrefix),
    snapshotMode: s.snapshotMode ?? 'initial',
  };
}

/**
 * Checks everything before anything is created: the database (reachable, credentials, wal_level,
 * the table, REPLICA IDENTITY FULL, the replication privilege) and Connect (reachable, the plugin).
 * A failure is a CONFIG_INVALID error naming the fix; nothing has been created then.
 */
export async function checkPlan(s: SourceSettings, plan: SourcePlan): Promise<{ exists: boolean }> {
  const client = await connectDatabase(plan.database);
  try {
    await checkSource(client, plan.database);
  } finally {
    await client.end().catch(() => undefined);
  }
  const rest = new ConnectRest(s.connectUrl);
  await rest.checkPlugin(POSTGRES_CONNECTOR_CLASS);
  return { exists: (await connectorStatus(rest, plan.connector)) !== null };
}

/** Creates the source topic and the connector; waits until its task runs. */
export async function createSource(
  s: SourceSettings,
  plan: SourcePlan,
  partitions: number,
  logger: Logger,
): Promise<ConnectorStatus> {
  const kafka = createKafka(s.connection, logger);
  await withAdmin(kafka, async (admin) => {
    if ((await admin.listTopics()).includes(plan.sourceTopic)) return;
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        {
          topic: plan.sourceTopic,
          numPartitions: partitions,
          configEntries: [
            { name: 'cleanup.policy', value: 'delete' },
            { name: 'retention.ms', value: String(SOURCE_TOPIC_RETENTION_MS) },
          ],
        },
      ],
    });
  });
  const rest = new ConnectRest(s.connectUrl);
  try {
    return await putConnector(rest, plan);
  } catch (err) {
    // Nothing half-created: a connector that did not start is removed with its slot.
    await deleteSource(s, plan).catch(() => undefined);
    throw err;
  }
}

export interface SourceStatus {
  connector: ConnectorStatus | null;
  slot: SlotState | null;
  /**
   * The initial snapshot: 'running' while Debezium's offset says so, 'done' once it streams,
   * null without a connector or an offset. While it runs, `recordsOnTopic` (the source topic's
   * records, all snapshot reads for a connector created on an empty topic) of `tableRows`.
   */
  snapshot: { state: 'running' | 'done'; recordsOnTopic: number | null; tableRows: number | null } | null;
}

export async function sourceStatus(
  s: SourceSettings,
  plan: SourcePlan,
  logger: Logger,
): Promise<SourceStatus> {
  const rest = new ConnectRest(s.connectUrl);
  const connector = await connectorStatus(rest, plan.connector);
  const offset = connector ? await connectorOffset(rest, plan.connector) : null;
  const snapshotting = offset !== null && isSnapshotOffset(offset);
  const client = await connectDatabase(plan.database);
  try {
    const slot = await slotState(client, plan.slot);
    if (offset === null) return { connector, slot, snapshot: null };
    if (!snapshotting)
      return { connector, slot, snapshot: { state: 'done', recordsOnTopic: null, tableRows: null } };
    const rows = await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${plan.table}`);
    const recordsOnTopic = await topicRecords(s, plan.sourceTopic, logger);
    return {
      connector,
      slot,
      snapshot: { state: 'running', recordsOnTopic, tableRows: Number(rows.rows[0]!.n) },
    };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Debezium marks the offsets it writes during a snapshot (`snapshot`: true or the snapshot's kind) until the last row. */
function isSnapshotOffset(offset: Record<string, unknown>): boolean {
  const snap = offset.snapshot;
  return snap !== undefined && snap !== false && snap !== 'false' && offset.last_snapshot_record !== true;
}

async function topicRecords(s: SourceSettings, topic: string, logger: Logger): Promise<number | null> {
  const kafka = createKafka(s.connection, logger);
  try {
    return await withAdmin(kafka, async (admin) =>
      (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high) - Number(p.low), 0),
    );
  } catch {
    return null;
  }
}

export async function pauseSource(s: SourceSettings, plan: SourcePlan, pause: boolean): Promise<void> {
  const rest = new ConnectRest(s.connectUrl);
  if ((await connectorStatus(rest, plan.connector)) === null)
    throw new CdcError(
      'USAGE',
      `there is no connector ${plan.connector}: create it with \`cdc source create --execute\``,
    );
  await rest.request(
    'PUT',
    `/connectors/${encodeURIComponent(plan.connector)}/${pause ? 'pause' : 'resume'}`,
  );
}

/** Removes the connector (and its offsets), then the slot and the publication. */
export async function deleteSource(
  s: SourceSettings,
  plan: SourcePlan,
): Promise<{ connectorRemoved: boolean; slotDropped: boolean }> {
  const connectorRemoved = await removeConnector(new ConnectRest(s.connectUrl), plan.connector);
  const client = await connectDatabase(plan.database);
  try {
    const { slotDropped } = await dropSlotAndPublication(client, plan.slot, plan.publication);
    return { connectorRemoved, slotDropped };
  } finally {
    await client.end().catch(() => undefined);
  }
}
