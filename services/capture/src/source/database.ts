import { Client, type ClientConfig } from 'pg';
import { CdcError, errorMessage } from '@cdc/core';

/**
 * The source database, through node-postgres: the checks before a connector is created, the
 * replication slot's lag, and dropping the slot and publication when the connector goes.
 * DATABASE_URL, or else libpq's variables (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE).
 */
export interface DatabaseTarget {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

export const SOURCE_SCHEMA = 'public';
export const SOURCE_TABLE = 'raw_movie_bookings';

export function databaseTarget(
  url: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): DatabaseTarget {
  if (url) {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new CdcError(
        'CONFIG_INVALID',
        `DATABASE_URL is not a URL: postgres://user:password@host:5432/database`,
      );
    }
    return {
      host: u.hostname,
      port: Number(u.port || 5432),
      user: decodeURIComponent(u.username),
      password: decodeURIComponent(u.password),
      database: u.pathname.replace(/^\//, '') || 'postgres',
    };
  }
  return {
    host: env.PGHOST ?? '127.0.0.1',
    port: Number(env.PGPORT ?? 5432),
    user: env.PGUSER ?? 'postgres',
    password: env.PGPASSWORD ?? '',
    database: env.PGDATABASE ?? env.PGUSER ?? 'postgres',
  };
}

export const describeTarget = (t: DatabaseTarget): string => `${t.user}@${t.host}:${t.port}/${t.database}`;

/** Connects, turning the usual failures into a configuration error that says what to fix. */
export async function connectDatabase(t: DatabaseTarget): Promise<Client> {
  const config: ClientConfig = { ...t, connectionTimeoutMillis: 5000 };
  const client = new Client(config);
  try {
    await client.connect();
    return client;
  } catch (err) {
    await client.end().catch(() => undefined);
    throw new CdcError('CONFIG_INVALID', `database ${describeTarget(t)}: ${explain(err)}`, { cause: err });
  }
}

function explain(err: unknown): string {
  const code = (err as { code?: string }).code;
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH')
    return 'not reachable: start it (`cdc stack up --source postgres`) or fix DATABASE_URL / PGHOST / PGPORT';
  if (code === '28P01' || code === '28000')
    return 'the user or password was refused: fix the credentials in DATABASE_URL (or PGUSER / PGPASSWORD)';
  if (code === '3D000')
    return 'the database does not exist: create it or fix the database name in DATABASE_URL';
  return errorMessage(err);
}

/** Everything the connector needs from the database, checked; each failure names the statement that fixes it. */
export async function checkSource(client: Client, t: DatabaseTarget): Promise<void> {
  const wal = await client.query<{ wal_level: string }>('SHOW wal_level');
  if (wal.rows[0]?.wal_level !== 'logical') {
    throw new CdcError(
      'CONFIG_INVALID',
      `database ${describeTarget(t)}: wal_level is ${wal.rows[0]?.wal_level}, logical decoding needs 'logical': run ALTER SYSTEM SET wal_level = logical; and restart PostgreSQL`,
    );
  }
  const table = await client.query<{ relreplident: string }>(
    `SELECT c.relreplident FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')`,
    [SOURCE_SCHEMA, SOURCE_TABLE],
  );
  if (table.rows.length === 0) {
    throw new CdcError(
      'CONFIG_INVALID',
      `database ${describeTarget(t)}: table ${SOURCE_SCHEMA}.${SOURCE_TABLE} does not exist: create it (sql/raw_movie_bookings.sql) or point DATABASE_URL at the database that has it`,
    );
  }
  if (table.rows[0]!.relreplident !== 'f') {
    throw new CdcError(
      'CONFIG_INVALID',
      `database ${describeTarget(t)}: table ${SOURCE_SCHEMA}.${SOURCE_TABLE} does not log whole rows for updates and deletes (REPLICA IDENTITY is not FULL): run ALTER TABLE ${SOURCE_SCHEMA}.${SOURCE_TABLE} REPLICA IDENTITY FULL;`,
    );
  }
  const role = await client.query<{ ok: boolean }>(
    'SELECT rolreplication OR rolsuper AS ok FROM pg_roles WHERE rolname = current_user',
  );
  if (!role.rows[0]?.ok) {
    throw new CdcError(
      'CONFIG_INVALID',
      `database ${describeTarget(t)}: user ${t.user} may not stream changes: run ALTER ROLE ${t.user} REPLICATION;`,
    );
  }
}

export interface SlotState {
  slot: string;
  active: boolean;
  lagBytes: number | null;
  lagSeconds: number | null;
}

export async function slotState(client: Client, slot: string): Promise<SlotState | null> {
  const r = await client.query<{ active: boolean; lag_bytes: string | null; lag_seconds: number | null }>(
    `SELECT s.active,
            pg_wal_lsn_diff(pg_current_wal_lsn(), s.confirmed_flush_lsn)::text AS lag_bytes,
            extract(epoch FROM r.flush_lag)::float8 AS lag_seconds
     FROM pg_replication_slots s LEFT JOIN pg_stat_replication r ON r.pid = s.active_pid
     WHERE s.slot_name = $1`,
    [slot],
  );
  const row = r.rows[0];
  if (!row) return null;
  return {
    slot,
    active: row.active,
    lagBytes: row.lag_bytes === null ? null : Number(row.lag_bytes),
    lagSeconds: row.lag_seconds ?? (row.active ? 0 : null),
  };
}

/** Drops the slot (once no connection uses it) and the publication, so no WAL piles up. */
export async function dropSlotAndPublication(
  client: Client,
  slot: string,
  publication: string,
  timeoutMs = 30_000,
): Promise<{ slotDropped: boolean }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await client.query<{ active: boolean; active_pid: number | null }>(
      'SELECT active, active_pid FROM pg_replication_slots WHERE slot_name = $1',
      [slot],
    );
    const row = s.rows[0];
    if (!row) break;
    if (!row.active) {
      await client.query('SELECT pg_drop_replication_slot($1)', [slot]);
      break;
    }
    if (Date.now() > deadline) {
      // The connector is gone: whatever still holds the slot is a leftover walsender.
      await client.query('SELECT pg_terminate_backend($1)', [row.active_pid]);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  await client.query(`DROP PUBLICATION IF EXISTS ${quoteIdent(publication)}`);
  return { slotDropped: true };
}

export const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;
