import { Client, DatabaseError } from 'pg';
import { CdcError, ConfigError, errorMessage, UnavailableError } from '@cdc/core';
import type { Generated } from '@cdc/bookings';
import { changeStatement, NEXT_BOOKING_NUMBER_SQL, SOURCE_TABLE } from './statements';

/**
 * The producer's connection to the source database (node-postgres): one client, one transaction
 * at a time. A transaction the database refuses (a constraint, a value out of range, a row that
 * is not there) is rolled back and played again one change at a time, each behind a savepoint,
 * so that only the refused changes are left out, each reported with the database's reason, and
 * the others are committed: bad input loses nothing else and stops nothing.
 */
export interface Refusal {
  change: Generated;
  bookingId: string;
  /** The database's reason, or why the row was missing. */
  reason: string;
  /** SQLSTATE, when the database refused the statement. */
  sqlState?: string;
}

export interface TransactionOutcome {
  committed: Generated[];
  refused: Refusal[];
}

/** Where to write: a connection string, or undefined for libpq's variables (PGHOST, PGPORT, ...). */
export interface SqlTarget {
  connectionString: string | undefined;
}

/** Input the database refuses: data exceptions (class 22) and integrity constraint violations (class 23). */
const refusedInput = (err: unknown): err is DatabaseError =>
  err instanceof DatabaseError &&
  (err.code?.startsWith('22') === true || err.code?.startsWith('23') === true);

/** An update or delete that found no row (its booking was refused or removed by someone else). */
class MissingRow extends Error {}

const bookingIdOf = (g: Generated): string => (g.change.after ?? g.change.before)!.booking_id;

export class SqlWriter {
  private constructor(
    private readonly client: Client,
    /** user@host:port/database, for messages. */
    readonly describe: string,
  ) {}

  /** Connects, then checks the table and the privileges the writes need; failures say what to fix. */
  static async open(target: SqlTarget): Promise<SqlWriter> {
    const client = new Client({
      ...(target.connectionString ? { connectionString: target.connectionString } : {}),
      connectionTimeoutMillis: 5000,
    });
    const describe = `${client.user ?? '?'}@${client.host}:${client.port}/${client.database ?? '?'}`;
    try {
      await client.connect();
    } catch (err) {
      await client.end().catch(() => undefined);
      throw new ConfigError(`database ${describe}: ${explainConnectError(err)}`);
    }
    const writer = new SqlWriter(client, describe);
    try {
      await writer.checkTable();
    } catch (err) {
      await writer.close();
      throw err;
    }
    return writer;
  }

  private async checkTable(): Promise<void> {
    const r = await this.client.query<{ insert: boolean | null; update: boolean; delete: boolean }>(
      `SELECT to_regclass($1) IS NOT NULL AS exists,
              CASE WHEN to_regclass($1) IS NULL THEN NULL ELSE has_table_privilege($1, 'INSERT') END AS insert,
              CASE WHEN to_regclass($1) IS NULL THEN NULL ELSE has_table_privilege($1, 'UPDATE') END AS update,
              CASE WHEN to_regclass($1) IS NULL THEN NULL ELSE has_table_privilege($1, 'DELETE') END AS delete`,
      [SOURCE_TABLE],
    );
    const row = r.rows[0]!;
    if (row.insert === null) {
      throw new ConfigError(
        `database ${this.describe}: table ${SOURCE_TABLE} does not exist: create it (sql/raw_movie_bookings.sql) or point DATABASE_URL at the database that has it`,
      );
    }
    const missing = (['insert', 'update', 'delete'] as const).filter((p) => !row[p]);
    if (missing.length > 0) {
      const privileges = missing.map((p) => p.toUpperCase()).join(', ');
      throw new ConfigError(
        `database ${this.describe}: user ${this.client.user ?? '?'} may not ${missing.join(' or ')} rows of ${SOURCE_TABLE}: run GRANT ${privileges} ON ${SOURCE_TABLE} TO ${this.client.user ?? '<user>'};`,
      );
    }
  }

  /** The booking number generated ids continue from, so a second run never reuses an id. */
  async nextBookingNumber(): Promise<number> {
    const r = await this.client.query<{ next: string }>(NEXT_BOOKING_NUMBER_SQL);
    return Number(r.rows[0]!.next);
  }

  /** Writes one transaction; on refused input, again change by change (see the class comment). */
  async write(changes: Generated[]): Promise<TransactionOutcome> {
    try {
      await this.client.query('BEGIN');
      for (const g of changes) await this.apply(g);
      await this.client.query('COMMIT');
      return { committed: changes, refused: [] };
    } catch (err) {
      if (!refusedInput(err) && !(err instanceof MissingRow)) throw this.lost(err);
      await this.rollback();
    }
    return this.writeOneByOne(changes);
  }

  private async writeOneByOne(changes: Generated[]): Promise<TransactionOutcome> {
    const out: TransactionOutcome = { committed: [], refused: [] };
    try {
      await this.client.query('BEGIN');
      for (const g of changes) {
        await this.client.query('SAVEPOINT change');
        try {
          await this.apply(g);
          await this.client.query('RELEASE SAVEPOINT change');
          out.committed.push(g);
        } catch (err) {
          if (!refusedInput(err) && !(err instanceof MissingRow)) throw err;
          await this.client.query('ROLLBACK TO SAVEPOINT change');
          out.refused.push({
            change: g,
            bookingId: bookingIdOf(g),
            reason: err.message,
            ...(err instanceof DatabaseError && err.code ? { sqlState: err.code } : {}),
          });
        }
      }
      await this.client.query('COMMIT');
      return out;
    } catch (err) {
      throw this.lost(err);
    }
  }

  private async apply(g: Generated): Promise<void> {
    const s = changeStatement(g.change);
    const r = await this.client.query(s.text, s.values);
    if (g.change.op !== 'c' && r.rowCount === 0) {
      throw new MissingRow(
        `booking ${bookingIdOf(g)} is not in ${SOURCE_TABLE} (an earlier change to it was refused, or someone else deleted it)`,
      );
    }
  }

  private async rollback(): Promise<void> {
    try {
      await this.client.query('ROLLBACK');
    } catch (err) {
      throw this.lost(err);
    }
  }

  /** Anything but refused input: the database went away or failed; the transaction's fate is unknown. */
  private lost(err: unknown): CdcError {
    if (err instanceof CdcError) return err;
    return new UnavailableError(
      'database',
      `database ${this.describe}: ${errorMessage(err)} (the transaction in progress may or may not be committed)`,
      err,
    );
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => undefined);
  }
}

/** The usual connection failures, turned into what to fix. */
function explainConnectError(err: unknown): string {
  const code = (err as { code?: string }).code;
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH')
    return 'not reachable: start it (`cdc stack up --source postgres`) or fix DATABASE_URL / PGHOST / PGPORT';
  if (code === '28P01' || code === '28000')
    return 'the user or password was refused: fix the credentials in DATABASE_URL (or PGUSER / PGPASSWORD)';
  if (code === '3D000')
    return 'the database does not exist: create it or fix the database name in DATABASE_URL';
  return errorMessage(err);
}
