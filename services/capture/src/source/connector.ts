import { CdcError, waitFor } from '@cdc/core';
import type { DatabaseTarget } from './database';
import { SOURCE_SCHEMA, SOURCE_TABLE } from './database';
import type { ConnectRest, ConnectorStatus } from './connect-rest';

export const POSTGRES_CONNECTOR_CLASS = 'io.debezium.connector.postgresql.PostgresConnector';

/** What `cdc source create` sets up: one connector, one slot, one publication, one topic. */
export interface SourcePlan {
  connector: string;
  database: DatabaseTarget;
  /** The same database as the Connect worker reaches it (another host name from a container). */
  connectorDatabase: DatabaseTarget;
  table: string;
  slot: string;
  publication: string;
  /** The pipeline topic Debezium's changes are routed to (the capture stage reads it). */
  sourceTopic: string;
  snapshotMode: 'initial' | 'no_data';
}

/** Names derived from TOPIC_PREFIX, so pipelines sharing a database and a Connect cluster do not collide. */
export function sourceNames(topicPrefix: string): Pick<SourcePlan, 'connector' | 'slot' | 'publication'> {
  const safe = topicPrefix.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  return {
    connector: `${topicPrefix}cdc-source-postgres`,
    slot: `${safe}cdc_bookings`,
    publication: `${safe}cdc_bookings`,
  };
}

/**
 * The Debezium PostgreSQL connector's configuration. pgoutput (built into PostgreSQL 10+), a
 * publication on the one table (created by Debezium), Kafka's JsonConverter without schemas,
 * numeric as exact text, no tombstones (bronze has no null records), TRUNCATE delivered (the
 * capture stage reports it), and every change routed to the one source topic.
 */
export function connectorConfig(p: SourcePlan): Record<string, string> {
  return {
    'connector.class': POSTGRES_CONNECTOR_CLASS,
    'tasks.max': '1',
    'plugin.name': 'pgoutput',
    'database.hostname': p.connectorDatabase.host,
    'database.port': String(p.connectorDatabase.port),
    'database.user': p.connectorDatabase.user,
    'database.password': p.connectorDatabase.password,
    'database.dbname': p.connectorDatabase.database,
    'topic.prefix': p.connector.replace(/[^a-zA-Z0-9_.-]/g, '_'),
    'table.include.list': p.table,
    'slot.name': p.slot,
    'publication.name': p.publication,
    'publication.autocreate.mode': 'filtered',
    'snapshot.mode': p.snapshotMode,
    // Debezium's task waits this long for a full batch before it hands a partial one to Connect;
    // its default, 500 ms, was half of the commit -> dashboard time at 1,000 changes/s (BENCHMARKS.md).
    'poll.interval.ms': '50',
    'decimal.handling.mode': 'string',
    'time.precision.mode': 'adaptive_time_microseconds',
    'tombstones.on.delete': 'false',
    'skipped.operations': 'none',
    'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
    'key.converter.schemas.enable': 'false',
    'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
    'value.converter.schemas.enable': 'false',
    transforms: 'route',
    'transforms.route.type': 'org.apache.kafka.connect.transforms.RegexRouter',
    'transforms.route.regex': '.*',
    'transforms.route.replacement': p.sourceTopic,
  };
}

export const sourceTable = `${SOURCE_SCHEMA}.${SOURCE_TABLE}`;

export async function connectorStatus(rest: ConnectRest, name: string): Promise<ConnectorStatus | null> {
  const r = await rest.request<ConnectorStatus>('GET', `/connectors/${encodeURIComponent(name)}/status`);
  return r.status === 404 ? null : r.body;
}

/**
 * The connector's source offset (Connect's offsets API, Kafka 3.5+): Debezium's position, with
 * `snapshot` set while the initial snapshot runs. Null when there is none yet, or Connect is older.
 */
export async function connectorOffset(
  rest: ConnectRest,
  name: string,
): Promise<Record<string, unknown> | null> {
  const r = await rest.request<{ offsets?: { offset?: Record<string, unknown> }[] }>(
    'GET',
    `/connectors/${encodeURIComponent(name)}/offsets`,
  );
  if (r.status >= 400) return null;
  return r.body.offsets?.[0]?.offset ?? null;
}

/** Creates (or updates) the connector and waits until its task runs; a failed task is reported with its trace. */
export async function putConnector(
  rest: ConnectRest,
  p: SourcePlan,
  timeoutMs = 120_000,
): Promise<ConnectorStatus> {
  const r = await rest.request<unknown>(
    'PUT',
    `/connectors/${encodeURIComponent(p.connector)}/config`,
    connectorConfig(p),
  );
  if (r.status >= 400)
    throw new CdcError('CONFIG_INVALID', `Kafka Connect refused the connector: ${JSON.stringify(r.body)}`);
  // A FAILED connector or task ends the wait at once (waitFor retries a check that throws).
  let failure: CdcError | undefined;
  const running = await waitFor(
    async () => {
      const s = await connectorStatus(rest, p.connector);
      const failed = s && [s.connector, ...s.tasks].find((x) => x.state === 'FAILED');
      if (failed) {
        failure = new CdcError(
          'DEPENDENCY_FAILED',
          `the connector failed: ${failed.trace?.split('\n').slice(0, 3).join(' ')}`,
        );
        return 'failed' as const;
      }
      return s && s.connector.state === 'RUNNING' && s.tasks.some((t) => t.state === 'RUNNING')
        ? s
        : undefined;
    },
    { timeoutMs, intervalMs: 500, what: `connector ${p.connector} to run` },
  );
  if (running === 'failed') throw failure!;
  return running;
}

/**
 * Removes the connector and its source offsets (stop, delete the offsets, delete), so a connector
 * created again under the same name snapshots the table again instead of resuming a slot that is gone.
 */
export async function removeConnector(rest: ConnectRest, name: string, timeoutMs = 60_000): Promise<boolean> {
  const path = `/connectors/${encodeURIComponent(name)}`;
  if ((await connectorStatus(rest, name)) === null) return false;
  await rest.request('PUT', `${path}/stop`);
  await waitFor(async () => (await connectorStatus(rest, name))?.connector.state === 'STOPPED', {
    timeoutMs,
    intervalMs: 250,
    what: `connector ${name} to stop`,
  });
  await rest.request('DELETE', `${path}/offsets`);
  await rest.request('DELETE', path);
  await waitFor(async () => (await connectorStatus(rest, name)) === null, {
    timeoutMs,
    intervalMs: 250,
    what: `connector ${name} to be deleted`,
  });
  return true;
}
