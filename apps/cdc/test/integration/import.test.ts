import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createDecoder, createRegistryClient, loadSchema, waitFor, type BookingChange } from '@cdc/core';
import {
  createTestContext,
  endOffsets,
  readSilver,
  readToEnd,
  runCdc,
  startCdc,
  type CdcProcess,
  type TestContext,
} from '@cdc/testing';
import { dbTables, waitAggregated, withDb } from '../support/aggregator-db';

/**
 * `cdc import` as users run it, against the real broker and registry: the contract's seed
 * bookings as a `raw_movie_bookings` export → import → the real `cdc enrich` and `cdc aggregate`;
 * importing twice changes nothing; broken lines are listed, not sent; an import SIGKILLed or
 * stopped by Ctrl-C halfway and run again ends as an uninterrupted one; bad input sends nothing
 * (exit 2).
 */
const HEADER =
  'booking_id,customer_id,movie_id,booking_date,status,ticket_count,ticket_price,total_amount,created_at,updated_at';
/** The seed scenario's five bookings before their cancellations, as the old product exported them. */
const SEED_CSV = [
  HEADER,
  'B001,C0001,M001,2025-09-03 10:00:00,BOOKED,2,15.00,30.00,2025-09-03 10:00:00,2025-09-03 10:00:00',
  'B002,C0002,M002,2025-09-03 10:05:00,BOOKED,1,12.00,12.00,2025-09-03 10:05:00,2025-09-03 10:05:00',
  'B003,C0003,M003,2025-09-03 10:10:00,BOOKED,3,20.00,60.00,2025-09-03 10:10:00,2025-09-03 10:10:00',
  'B004,C0004,M004,2025-09-03 10:15:00,BOOKED,4,25.00,100.00,2025-09-03 10:15:00,2025-09-03 10:15:00',
  'B005,C0005,M005,2025-09-03 10:20:00,BOOKED,1,10.00,10.00,2025-09-03 10:20:00,2025-09-03 10:20:00',
].join('\n');

/** The seed's KPI table before B001 and B003 are cancelled. */
const EXPECTED = [
  // movie, total, active, cancelled, active rev, lost rev, size, price, cancel %, status_changes
  ['M001', 1, 1, 0, 3000, 0, 'GROUP', 'STANDARD', 0, 0],
  ['M002', 1, 1, 0, 1200, 0, 'SINGLE', 'STANDARD', 0, 0],
  ['M003', 1, 1, 0, 6000, 0, 'GROUP', 'STANDARD', 0, 0],
  ['M004', 1, 1, 0, 10000, 0, 'GROUP', 'PREMIUM', 0, 0],
  ['M005', 1, 1, 0, 1000, 0, 'SINGLE', 'STANDARD', 0, 0],
];

const total = (offsets: Map<number, number>): number => [...offsets.values()].reduce((a, b) => a + b, 0);

describe('cdc import', () => {
  let ctx: TestContext;
  let dir: string;
  const cdc = (args: string[]) => runCdc(args, { connection: ctx.connection });
  const start = (args: string[]) => ctx.track(startCdc(args, { connection: ctx.connection }));
  const file = (name: string, text: string): string => {
    const p = path.join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const decodeBronze = async (): Promise<BookingChange[]> => {
    const decoder = createDecoder<BookingChange>(
      createRegistryClient(ctx.connection.registryUrl),
      loadSchema('BookingChange').type,
    );
    const out: BookingChange[] = [];
    for (const m of await readToEnd(ctx, ctx.topics.bronze)) out.push(await decoder.decode(m.value));
    return out;
  };

  beforeEach(async () => {
    ctx = await createTestContext({ name: 'import' });
    dir = mkdtempSync(path.join(tmpdir(), 'cdc-import-'));
  });
  afterEach(async () => {
    await ctx.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('imports the seed bookings as snapshot reads that the pipeline turns into the seed table; a second import changes nothing', async () => {
    const csv = file('raw_movie_bookings.csv', `${SEED_CSV}\n`);
    const db = path.join(dir, 'aggregator.db');

    // The plan: counts, and nothing sent.
    const dry = await cdc(['import', csv, '--dry-run', '--no-progress']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('dry run: nothing sent');
    expect(dry.stdout).toMatch(/5 +new bookings/);
    expect(total(await endOffsets(ctx, ctx.topics.bronze))).toBe(0);

    const run = await cdc(['import', csv, '--no-progress', '--json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      status: 'completed',
      counts: { rows: 5, created: 5, updated: 0, unchanged: 0, rejected: 0, totalMismatches: 0 },
      acknowledged: 5,
    });
    const bronze = await decodeBronze();
    expect(bronze).toHaveLength(5);
    for (const c of bronze) {
      expect(c).toMatchObject({ op: 'r', before: null, source: { name: 'import:raw_movie_bookings.csv' } });
      expect(c.after?.version).toBe(1);
    }
    expect(bronze.find((c) => c.after?.booking_id === 'B001')?.after).toMatchObject({
      booking_id: 'B001',
      customer_id: 'C0001',
      movie_id: 'M001',
      booking_date: Date.parse('2025-09-03T10:00:00Z'),
      status: 'BOOKED',
      ticket_count: 2,
      ticket_price: 1500,
    });

    start(['enrich', '--ops-port', '0']);
    start(['aggregate', '--db', db, '--ops-port', '0']);
    await waitFor(async () => (await readSilver(ctx)).length === 5, {
      timeoutMs: 60_000,
      intervalMs: 500,
      what: 'the enrichment of the five imported bookings',
    });
    await waitAggregated(ctx, db, 'the aggregator to apply the imported bookings');
    const kpis = () =>
      withDb(
        db,
        (d) => d.prepare('SELECT * FROM movie_kpis ORDER BY movie_key').all() as Record<string, unknown>[],
      );
    const table = kpis().map((r) => [
      r.movie_key,
      r.total_bookings,
      r.active_bookings,
      r.cancelled_bookings,
      r.total_active_revenue_cents,
      r.total_lost_revenue_cents,
      r.single_bookings ? 'SINGLE' : r.group_bookings ? 'GROUP' : 'LARGE_GROUP',
      r.budget_bookings ? 'BUDGET' : r.standard_bookings ? 'STANDARD' : 'PREMIUM',
      r.cancellation_rate_percent,
      r.status_changes,
    ]);
    expect(table).toEqual(EXPECTED);
    for (const r of kpis()) {
      expect(r).toMatchObject({
        invalid_bookings: 0,
        data_quality_score: 100,
        booking_days: 1,
        active_hours: 1,
      });
    }
    const hours = withDb(db, (d) =>
      d.prepare('SELECT booking_id, booking_hour, day_of_week FROM bookings ORDER BY 1').raw().all(),
    );
    expect(hours).toEqual(['B001', 'B002', 'B003', 'B004', 'B005'].map((id) => [id, 10, 3]));
    const tables = dbTables(db);

    // Again: the plan names the ids bronze holds; the import sends nothing and no KPI moves.
    const bronzeEnd = await endOffsets(ctx, ctx.topics.bronze);
    const plan = await cdc(['import', csv, '--dry-run', '--no-progress']);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/5 +identical to what bronze holds/);
    expect(plan.stdout).toContain('already in bronze: B001, B002, B003, B004, B005');
    const again = await cdc(['import', csv, '--no-progress', '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({
      counts: { rows: 5, created: 0, updated: 0, unchanged: 5 },
    });
    expect(await endOffsets(ctx, ctx.topics.bronze)).toEqual(bronzeEnd);

    // A changed booking becomes an update (version 2, before = bronze's image); KPIs follow.
    const changed = file(
      'changed.csv',
      `${HEADER}\n${SEED_CSV.split('\n')[1]!.replace(',BOOKED,', ',CANCELLED,')}\n`,
    );
    const update = await cdc(['import', changed, '--no-progress', '--json']);
    expect(update.code).toBe(0);
    expect(JSON.parse(update.stdout)).toMatchObject({ counts: { rows: 1, updated: 1 } });
    const last = (await decodeBronze()).find((c) => c.op === 'u');
    expect(last).toMatchObject({
      before: { booking_id: 'B001', status: 'BOOKED', version: 1 },
      after: { status: 'CANCELLED', version: 2 },
    });
    await waitFor(async () => (await readSilver(ctx)).length === 6, {
      timeoutMs: 60_000,
      intervalMs: 500,
      what: 'the update enriched',
    });
    await waitAggregated(ctx, db, 'the aggregator to apply the update');
    expect(dbTables(db).movie_kpis).not.toEqual(tables.movie_kpis);
    expect(kpis()[0]).toMatchObject({
      movie_key: 'M001',
      active_bookings: 0,
      cancelled_bookings: 1,
      total_lost_revenue_cents: 3000,
    });
  });

  it('imports the rest of a file with three broken lines and lists exactly those, with their line numbers (exit 1)', async () => {
    const lines = SEED_CSV.split('\n');
    const csv = file(
      'broken.csv',
      [
        lines[0], // line 1: the header
        lines[1], // 2
        ',C0009,M009,2025-09-03 10:00:00,BOOKED,1,10.00,10.00,,', // 3: no booking_id
        lines[2], // 4
        'B010,C0010,M010,2025-09-03 10:00:00,BOOKED,1,ten,10.00,,', // 5: a price that is not a number
        lines[3], // 6
        'B011,C0011,M011,2025-09-03 10:00:00,BOOKED,1', // 7: too few columns
        lines[4], // 8
        'B012,C0012,M012,2025-09-03 10:00:00,BOOKED,0,-1.00,0,,', // 9: bad data, imported (the enricher flags it)
        lines[5], // 10
      ].join('\n') + '\n',
    );
    const run = await cdc(['import', csv, '--no-progress']);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/3 +rejected/);
    const rejects = path.join(dir, 'broken.rejects.csv');
    expect(run.stdout).toContain(rejects);
    const listed = readFileSync(rejects, 'utf8').trim().split('\n');
    expect(listed[0]).toBe('line,reason,row');
    expect(listed.slice(1).map((l) => l.split(',')[0])).toEqual(['3', '5', '7']);
    expect(listed[1]).toContain('booking_id is missing');
    expect(listed[2]).toContain('ticket_price');
    expect(listed[3]).toMatch(/column/);
    const ids = (await decodeBronze()).map((c) => c.after!.booking_id).sort();
    expect(ids).toEqual(['B001', 'B002', 'B003', 'B004', 'B005', 'B012']);
  });

  /** A CSV of `rows` distinct bookings, and the import of it: small requests from one producer, slow enough to be caught halfway. */
  const bigImport = (rows: number): { csv: string; args: string[] } => {
    const out: string[] = [HEADER];
    for (let i = 1; i <= rows; i++) {
      const at = new Date(Date.UTC(2025, 8, 1) + i * 60_000).toISOString().slice(0, 19).replace('T', ' ');
      out.push(
        `K${i},C${i % 977},M${i % 53},${at},BOOKED,${1 + (i % 4)},${8 + (i % 20)}.${i % 10}0,,${at},${at}`,
      );
    }
    const csv = file('big.csv', `${out.join('\n')}\n`);
    return {
      csv,
      args: ['import', csv, '--no-progress', '--producers', '1', '--batch-size', '200', '--json'],
    };
  };
  interface ProgressFile {
    checkpoint: { line: number; counts: { rows: number; created: number } };
  }
  const readProgressFile = (csv: string): ProgressFile | undefined => {
    const progress = `${csv}.import-progress.json`;
    if (!existsSync(progress)) return undefined;
    try {
      return JSON.parse(readFileSync(progress, 'utf8')) as ProgressFile;
    } catch {
      return undefined; // being renamed into place
    }
  };
  /** Waits until the running import's progress file has a checkpoint past `line`; returns it. */
  const checkpointPast = (proc: CdcProcess, csv: string, line: number): Promise<number> =>
    proc.waitFor(
      () => {
        const l = readProgressFile(csv)?.checkpoint.line;
        return l !== undefined && l > line ? l : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 50, what: `a checkpoint past line ${line}` },
    );

  it('an import SIGKILLed halfway and run again ends equal to an uninterrupted one: every row once in bronze', async () => {
    const rows = 150_000;
    const { csv, args } = bigImport(rows);
    const first = start(args);
    const at = await checkpointPast(first, csv, 1000);
    await first.kill();
    expect(at).toBeLessThan(rows);
    const killedAt = total(await endOffsets(ctx, ctx.topics.bronze));
    expect(killedAt).toBeGreaterThan(0);
    expect(killedAt).toBeLessThan(rows);

    const second = await cdc(args);
    expect(second.stderr).not.toMatch(/^error/m);
    expect(second.code).toBe(0);
    const summary = JSON.parse(second.stdout) as {
      resumedAfterLine: number;
      counts: { rows: number; created: number; unchanged: number };
    };
    expect(summary.resumedAfterLine).toBeGreaterThanOrEqual(at);
    expect(summary.counts.rows).toBe(rows);
    expect(summary.counts.created + summary.counts.unchanged).toBe(rows);
    expect(existsSync(`${csv}.import-progress.json`)).toBe(false);

    // As an uninterrupted run: each booking exactly once, as a snapshot read at version 1.
    const messages = await readToEnd(ctx, ctx.topics.bronze);
    expect(messages).toHaveLength(rows);
    expect(new Set(messages.map((m) => m.key!.toString())).size).toBe(rows);
    const seqs = new Set<number>();
    const sample = await decodeBronzeSample(messages.slice(0, 500).map((m) => m.value!));
    for (const c of sample) {
      expect(c.op).toBe('r');
      expect(c.after!.version).toBe(1);
      seqs.add(c.source.seq);
    }
    expect(seqs.size).toBe(sample.length);
  });

  it('Ctrl-C during a large import: exit 130 with its progress recorded; run again, it ends equal to an uninterrupted one', async () => {
    const rows = 150_000;
    const { csv, args } = bigImport(rows);
    const first = start(args);
    await checkpointPast(first, csv, 1000);
    expect(await first.stop('SIGINT')).toBe(130);
    expect(first.stderr()).toMatch(/SIGINT: stopping/);
    const stopped = JSON.parse(first.stdout()) as {
      status: string;
      acknowledged: number;
      progressFile: string | null;
    };
    expect(stopped.status).toBe('stopped');
    expect(stopped.progressFile).toBe(`${csv}.import-progress.json`);
    const recorded = readProgressFile(csv)!.checkpoint;
    const inBronze = total(await endOffsets(ctx, ctx.topics.bronze));
    expect(inBronze).toBeLessThan(rows);
    // A stop waits for the records in flight: bronze holds exactly what the import says was
    // acknowledged, and the progress covers acknowledged lines only (a prefix of them).
    expect(stopped.acknowledged).toBe(inBronze);
    expect(recorded.counts.created).toBeGreaterThan(1000);
    expect(recorded.counts.created).toBeLessThanOrEqual(inBronze);
    expect(recorded.line).toBe(recorded.counts.rows + 1); // line 1 is the header

    const second = await cdc(args);
    expect(second.stderr).not.toMatch(/^error/m);
    expect(second.code).toBe(0);
    const summary = JSON.parse(second.stdout) as {
      resumedAfterLine: number;
      counts: { rows: number; created: number; unchanged: number };
    };
    expect(summary.resumedAfterLine).toBe(recorded.line);
    expect(summary.counts.rows).toBe(rows);
    // Rows acknowledged after the last checkpoint are found in bronze and skipped, not sent again.
    expect(summary.counts.unchanged).toBe(inBronze - recorded.counts.created);
    expect(summary.counts.created + summary.counts.unchanged).toBe(rows);
    expect(existsSync(`${csv}.import-progress.json`)).toBe(false);

    // As an uninterrupted run: every booking exactly once, as a snapshot read at version 1.
    const messages = await readToEnd(ctx, ctx.topics.bronze);
    expect(messages).toHaveLength(rows);
    expect(new Set(messages.map((m) => m.key!.toString())).size).toBe(rows);
    const sample = await decodeBronzeSample(messages.slice(-500).map((m) => m.value!));
    for (const c of sample) {
      expect(c.op).toBe('r');
      expect(c.after!.version).toBe(1);
    }
  });

  const decodeBronzeSample = async (values: Buffer[]): Promise<BookingChange[]> => {
    const decoder = createDecoder<BookingChange>(
      createRegistryClient(ctx.connection.registryUrl),
      loadSchema('BookingChange').type,
    );
    const out: BookingChange[] = [];
    for (const v of values) out.push(await decoder.decode(v));
    return out;
  };

  it('bad input: a missing file, an empty file, no booking_id column, an unknown --map field → exit 2 with the reason, nothing sent', async () => {
    const cases: [string[], RegExp][] = [
      [['import', path.join(dir, 'nope.csv')], /nope\.csv.*(no such file|does not exist|not found)/i],
      [['import', file('empty.csv', '')], /empty/i],
      [
        [
          'import',
          file(
            'nobooking.csv',
            'id,customer_id,movie_id,booking_date,status,ticket_count,ticket_price\nB1,C,M,2025-09-03 10:00:00,BOOKED,1,1.00\n',
          ),
        ],
        /booking_id/,
      ],
      [
        ['import', file('ok.csv', `${SEED_CSV}\n`), '--map', 'price=ticket_cost'],
        /unknown field 'ticket_cost'/,
      ],
    ];
    for (const [args, reason] of cases) {
      const r = await cdc([...args, '--no-progress']);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toMatch(reason);
    }
    expect(total(await endOffsets(ctx, ctx.topics.bronze))).toBe(0);
  });
});
