import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { StackError } from '@cdc/core';
import { isAlive } from './proc';
import { REPO_ROOT } from './versions';

/**
 * The local stack's PostgreSQL: Debian's binaries (`postgresql` package), one cluster under the
 * stack's folder, `wal_level=logical` for Debezium, listening on 127.0.0.1 only. The stack's
 * database user `cdc` (password `cdc`, a local development cluster) owns the `bookings` database
 * with the source table of `sql/raw_movie_bookings.sql`.
 */
export interface PostgresNodeOptions {
  dir: string;
  port: number;
}

export const STACK_DATABASE = 'bookings';
export const STACK_DB_USER = 'cdc';
export const STACK_DB_PASSWORD = 'cdc';
export const SOURCE_TABLE_DDL = path.join(REPO_ROOT, 'sql', 'raw_movie_bookings.sql');

/** Server settings, the same wherever the database runs (docker-compose.yml passes them as -c). */
export const POSTGRES_SERVER_SETTINGS: Readonly<Record<string, string>> = {
  wal_level: 'logical',
  max_wal_senders: '10',
  max_replication_slots: '10',
};

export function postgresFiles(dir: string) {
  return {
    dataDir: path.join(dir, 'data'),
    socketDir: dir,
    logFile: path.join(dir, 'postgres.log'),
    pidFile: path.join(dir, 'data', 'postmaster.pid'),
    pwFile: path.join(dir, 'pwfile'),
  };
}

/** The newest Debian PostgreSQL's bin folder (PG_BIN_DIR overrides). */
export function findPostgresBin(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PG_BIN_DIR) return env.PG_BIN_DIR;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(path.join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) {
    throw new StackError(
      `PostgreSQL is needed for --source postgres but no ${root}/<version>/bin/initdb was found: ` +
        `install it (sudo apt-get install postgresql), set PG_BIN_DIR, or point DATABASE_URL at your own database`,
    );
  }
  return path.join(root, versions[0]!, 'bin');
}

/** PostgreSQL refuses to run as root: as root, the server runs as the `postgres` system user. */
function asServerUser(cmd: string[]): string[] {
  return process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--', ...cmd] : cmd;
}

function serverUserIds(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const r = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (r.status !== 0 || g.status !== 0) {
    throw new StackError(
      'running as root, PostgreSQL needs the `postgres` system user (created by the postgresql package)',
    );
  }
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
}

function run(cmd: string[], what: string, env: NodeJS.ProcessEnv = process.env): SpawnSyncReturns<string> {
  const [bin, ...args] = asServerUser(cmd);
  const r = spawnSync(bin!, args, { encoding: 'utf8', env, cwd: '/' });
  if (r.error || r.status !== 0)
    throw new StackError(`${what} failed: ${r.error?.message ?? ''}${r.stdout ?? ''}${r.stderr ?? ''}`);
  return r;
}

/**
 * Where the cluster lives: `preferred` (under the stack's folder), unless the process runs as root
 * and the `postgres` user cannot reach that folder (a checkout under /root): then a folder of its
 * own under /var/lib/postgresql, named after `preferred` so each stack keeps its cluster.
 */
export function clusterDir(preferred: string): string {
  if (process.getuid?.() !== 0) return preferred;
  mkdirSync(preferred, { recursive: true });
  const reach = spawnSync('runuser', ['-u', 'postgres', '--', 'test', '-x', preferred]);
  if (reach.status === 0) return preferred;
  const id = createHash('sha1').update(preferred).digest('hex').slice(0, 12);
  return path.join('/var/lib/postgresql', 'cdc-stack', id);
}

/** Creates the cluster once (initdb), owned by the server's user; later calls leave it alone. */
export function initClusterIfNeeded(binDir: string, o: PostgresNodeOptions): boolean {
  const f = postgresFiles(o.dir);
  if (existsSync(path.join(f.dataDir, 'PG_VERSION'))) return false;
  mkdirSync(f.dataDir, { recursive: true });
  const ids = serverUserIds();
  if (ids) chownAncestors(o.dir, ids);
  writeFileSync(f.pwFile, `${STACK_DB_PASSWORD}\n`, { mode: 0o600 });
  if (ids) for (const p of [o.dir, f.dataDir, f.pwFile]) chownSync(p, ids.uid, ids.gid);
  run(
    [
      path.join(binDir, 'initdb'),
      '-D',
      f.dataDir,
      '--username',
      STACK_DB_USER,
      '--pwfile',
      f.pwFile,
      '--auth-local',
      'scram-sha-256',
      '--auth-host',
      'scram-sha-256',
      '--encoding',
      'UTF8',
      '--locale',
      'C',
    ],
    'initdb',
  );
  const settings = { ...POSTGRES_SERVER_SETTINGS, listen_addresses: "'127.0.0.1'" };
  const conf = Object.entries(settings).map(([k, v]) => `${k} = ${v}`);
  writeFileSync(path.join(f.dataDir, 'postgresql.auto.conf'), `${conf.join('\n')}\n`);
  if (ids) chownSync(path.join(f.dataDir, 'postgresql.auto.conf'), ids.uid, ids.gid);
  return true;
}

/** Under /var/lib/postgresql, the folders made for the cluster belong to the server's user too. */
function chownAncestors(dir: string, ids: { uid: number; gid: number }): void {
  const root = '/var/lib/postgresql/';
  if (!dir.startsWith(root)) return;
  let p = dir;
  while (p.length >= root.length) {
    chownSync(p, ids.uid, ids.gid);
    p = path.dirname(p);
  }
}

/** The server's pid from postmaster.pid (its first line), when it runs. */
export function postgresPid(dir: string): number | undefined {
  const { pidFile } = postgresFiles(dir);
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
}

/** Starts the server in the background (pg_ctl) and waits until it accepts connections. */
export function startPostgres(binDir: string, o: PostgresNodeOptions): void {
  const f = postgresFiles(o.dir);
  run(
    [
      path.join(binDir, 'pg_ctl'),
      'start',
      '-w',
      '-t',
      '60',
      '-D',
      f.dataDir,
      '-l',
      f.logFile,
      '-o',
      `-p ${o.port} -k ${f.socketDir}`,
    ],
    `starting PostgreSQL (log: ${f.logFile})`,
  );
}

/** Fast shutdown: open sessions (Debezium's replication connection) are closed, not waited for. */
export function stopPostgres(binDir: string, dir: string): void {
  const f = postgresFiles(dir);
  run([path.join(binDir, 'pg_ctl'), 'stop', '-w', '-m', 'fast', '-D', f.dataDir], 'stopping PostgreSQL');
}

/** Creates the `bookings` database and its source table when missing (psql, the stack's user). */
export function createSourceDatabase(binDir: string, o: PostgresNodeOptions): void {
  const env = { ...process.env, PGPASSWORD: STACK_DB_PASSWORD };
  const psql = (db: string, ...args: string[]) =>
    run(
      [
        path.join(binDir, 'psql'),
        '-X',
        '-q',
        '-v',
        'ON_ERROR_STOP=1',
        '-h',
        '127.0.0.1',
        '-p',
        String(o.port),
        '-U',
        STACK_DB_USER,
        '-d',
        db,
        ...args,
      ],
      `psql on ${db}`,
      env,
    );
  const exists = psql(
    'postgres',
    '-tA',
    '-c',
    `SELECT 1 FROM pg_database WHERE datname = '${STACK_DATABASE}'`,
  );
  if (exists.stdout.trim() !== '1') psql('postgres', '-c', `CREATE DATABASE ${STACK_DATABASE}`);
  psql(STACK_DATABASE, '-c', readFileSync(SOURCE_TABLE_DDL, 'utf8'));
}

/** The URL the stack's database answers on. */
export function stackDatabaseUrl(port: number): string {
  return `postgres://${STACK_DB_USER}:${STACK_DB_PASSWORD}@127.0.0.1:${port}/${STACK_DATABASE}`;
}
