import { createLogger, type Booking } from '@cdc/core';
import { createGenerator } from '@cdc/bookings';
import { runCdc, startTestPostgres, testSeed, type TestDatabase, type TestPostgres } from '@cdc/testing';
import { centsToNumeric, parseSqlProduceArgs, runToPostgres, type SqlProduceSummary } from '../../src';

/**
 * `cdc produce --to postgres` against a real PostgreSQL (the local stack's kind): the table ends
 * up holding exactly the bookings the generator's model says, money exact; a change the database
 * refuses is reported and stops nothing else.
 */
interface Row {
  booking_id: string;
  customer_id: string | null;
  movie_id: string | null;
  booking_date: string;
  status: string;
  ticket_count: number;
  ticket_price: string;
  total_amount: string;
  created_at: string;
  updated_at: string;
}

const ROWS_SQL = `SELECT booking_id, customer_id, movie_id, status, ticket_count,
  ticket_price::text, total_amount::text,
  (extract(epoch FROM booking_date) * 1000)::bigint::text AS booking_date,
  (extract(epoch FROM created_at) * 1000)::bigint::text AS created_at,
  (extract(epoch FROM updated_at) * 1000)::bigint::text AS updated_at
  FROM raw_movie_bookings ORDER BY booking_id`;

const asRow = (b: Booking): Row => ({
  booking_id: b.booking_id,
  customer_id: b.customer_id,
  movie_id: b.movie_id,
  booking_date: String(b.booking_date),
  status: b.status,
  ticket_count: b.ticket_count,
  ticket_price: centsToNumeric(b.ticket_price),
  total_amount: centsToNumeric(b.ticket_count * b.ticket_price),
  created_at: String(b.created_at),
  updated_at: String(b.updated_at),
});

describe('cdc produce --to postgres', () => {
  let pg: TestPostgres;
  let db: TestDatabase | undefined;
  beforeAll(async () => {
    pg = await startTestPostgres({
      name: 'test-produce-postgres',
      port: Number(process.env.CDC_TEST_PRODUCE_POSTGRES_PORT ?? 39434),
    });
  });
  afterAll(() => pg.close());
  afterEach(async () => {
    await db?.drop();
    db = undefined;
  });

  it("the table holds exactly the generator's bookings: every change as SQL, in transactions, money exact", async () => {
    const seed = testSeed('produce to postgres');
    db = await pg.createDatabase();
    const config = parseSqlProduceArgs({ count: '3000', seed: String(seed), dirtyRatio: '0.1' });
    // One event time per change, the same for the run and the model.
    const clockFrom = (t0: number) => {
      let t = t0;
      return () => (t += 37);
    };
    const t0 = Date.now();
    const summary = await runToPostgres(config, {
      target: { connectionString: db.url },
      logger: createLogger('test-produce', 'warn'),
      progress: 'none',
      clock: clockFrom(t0),
    });
    expect(summary).toMatchObject({ status: 'completed', committedTotal: 3000, refused: 0, generated: 3000 });
    // Transactions of 1 to 5 changes: about 3000 / 3 of them.
    expect(summary.transactions).toBeGreaterThan(3000 / 5);
    expect(summary.transactions).toBeLessThan(3000 / 2);

    if (config.source.kind !== 'generator') throw new Error('expected the generator');
    const model = createGenerator({
      ...config.source.generator,
      runId: 'model',
      firstSeq: 1,
      firstBookingNumber: 1,
    });
    const clock = clockFrom(t0);
    const rows = new Map<string, Booking>();
    for (let i = 0; i < 3000; i++) {
      const { change } = model.next(clock());
      if (change.after) rows.set(change.after.booking_id, change.after);
      else rows.delete(change.before!.booking_id);
    }
    const expected = [...rows.values()].sort((a, b) => a.booking_id.localeCompare(b.booking_id)).map(asRow);
    const actual = (await db.client.query<Row>(ROWS_SQL)).rows;
    expect(actual.length).toBe(expected.length);
    expect(actual).toEqual(expected);
    expect(summary.committed).toEqual(model.stats().byKind);

    // A second run continues the booking ids after the table's: nothing collides.
    const again = await runToPostgres(parseSqlProduceArgs({ count: '50', seed: String(seed + 1) }), {
      target: { connectionString: db.url },
      logger: createLogger('test-produce', 'warn'),
      progress: 'none',
    });
    expect(again).toMatchObject({ status: 'completed', committedTotal: 50, refused: 0 });
  });

  it('a change the database refuses (a CHECK constraint) is reported with its reason; every other change is written', async () => {
    const seed = testSeed('produce to postgres, refusals');
    db = await pg.createDatabase();
    await db.client.query(
      'ALTER TABLE raw_movie_bookings ADD CONSTRAINT price_positive CHECK (ticket_price > 0)',
    );
    const r = await runCdc(
      ['produce', '--to', 'postgres', '-n', '600', '--seed', String(seed), '--dirty-ratio', '0.4', '--json'],
      { env: { DATABASE_URL: db.url } },
    );
    const summary = JSON.parse(r.stdout) as SqlProduceSummary;
    expect(r.code).toBe(1); // not everything asked for was written
    expect(summary.status).toBe('completed');
    expect(summary.refused).toBeGreaterThan(0);
    expect(summary.committedTotal + summary.refused).toBe(600);
    for (const x of summary.refusals) {
      // Refused by the constraint, or an update / delete of a booking whose insert was refused.
      if (x.sqlState) {
        expect(x.sqlState).toBe('23514');
        expect(x.reason).toContain('price_positive');
      } else expect(x.reason).toMatch(/is not in raw_movie_bookings/);
    }
    expect(r.stderr).toContain('the database refused a change');
    const rows = await db.client.query<{ n: number; bad: number }>(
      'SELECT count(*)::int AS n, count(*) FILTER (WHERE ticket_price <= 0)::int AS bad FROM raw_movie_bookings',
    );
    expect(rows.rows[0]).toEqual({ n: summary.committed.create - summary.committed.delete, bad: 0 });
  });

  it('bad configuration: exit 2 and what to fix, nothing written', async () => {
    db = await pg.createDatabase({ table: false });
    const missing = await runCdc(['produce', '--to', 'postgres', '-n', '10'], {
      env: { DATABASE_URL: db.url },
    });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(
      /table raw_movie_bookings does not exist: create it \(sql\/raw_movie_bookings.sql\)/,
    );
    const url = new URL(db.url);
    url.password = 'wrong';
    const refused = await runCdc(['produce', '--to', 'postgres', '-n', '10'], {
      env: { DATABASE_URL: url.toString() },
    });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/the user or password was refused/);
  });
});
