import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRegistryClient, waitFor, type BookingChange } from '@cdc/core';
import {
  bronzeEncoder,
  bronzeMessage,
  createTestContext,
  endOffsets,
  produceAll,
  readSilver,
  readToEnd,
  runCdc,
  startCdc,
  type TestContext,
} from '@cdc/testing';
import { waitAggregated, withDb } from '../support/aggregator-db';

/**
 * `cdc dlq` against the real broker and registry and a running `cdc enrich`: records that do not
 * decode are dead-lettered and listed with their reasons; `replay` plans, then re-sends the
 * original bytes with a link to their dead letter; what decodes now flows on to silver once, what
 * still fails is dead-lettered again, and replaying again changes nothing.
 *
 * "Cause removed" is simulated faithfully to the bytes: a dead letter of the UNKNOWN_SCHEMA_ID
 * kind whose value is a record framed with a schema id the registry knows *now* (as after the
 * missing schema was registered) — written to the dead-letter topic with the enricher's headers,
 * since the registry assigns ids itself and a test cannot make an unknown id become known.
 */
// The enricher writes dead letters in transactions: count records (read committed), not offsets.
const change = (id: string): BookingChange => ({
  event_id: `dlq-test-${id}`,
  op: 'c',
  before: null,
  after: {
    booking_id: id,
    customer_id: 'C1',
    movie_id: 'M1',
    booking_date: Date.parse('2025-09-03T10:00:00Z'),
    status: 'BOOKED',
    ticket_count: 2,
    ticket_price: 1500,
    created_at: Date.parse('2025-09-03T10:00:00Z'),
    updated_at: Date.parse('2025-09-03T10:00:00Z'),
    version: 1,
  },
  ts_ms: Date.parse('2025-09-03T10:00:05Z'),
  source: { name: 'dlq-test', seq: 1 },
});

interface Listed {
  position: string;
  errorCode: string;
  errorMessage: string;
  size: number;
  key: string | null;
  replayOf: string | null;
}

describe('cdc dlq', () => {
  let ctx: TestContext;
  const cdc = (args: string[]) => runCdc(args, { connection: ctx.connection });

  beforeEach(async () => {
    ctx = await createTestContext({ name: 'dlq' });
  });
  afterEach(() => ctx.cleanup());

  it('lists dead letters with their reasons, shows one, replays what decodes now once and dead-letters the rest again; replaying twice changes nothing', async () => {
    const encoder = await bronzeEncoder(createRegistryClient(ctx.connection.registryUrl), ctx.topics.bronze);
    const dir = mkdtempSync(path.join(tmpdir(), 'cdc-dlq-'));
    ctx.track({ close: () => rmSync(dir, { recursive: true, force: true }) });
    const db = path.join(dir, 'aggregator.db');
    ctx.track(startCdc(['enrich', '--ops-port', '0'], { connection: ctx.connection }));
    ctx.track(startCdc(['aggregate', '--db', db, '--ops-port', '0'], { connection: ctx.connection }));
    const movie = () =>
      withDb(db, (d) =>
        d
          .prepare("SELECT total_bookings, total_active_revenue_cents FROM movie_kpis WHERE movie_key = 'M1'")
          .get(),
      );
    const unknownId = Buffer.concat([Buffer.from([0, 0x7f, 0xff, 0xff, 0xf0]), Buffer.from('payload')]);
    await produceAll(ctx.kafka, ctx.topics.bronze, [
      { key: 'G1', value: Buffer.from('not avro at all') },
      { key: 'G2', value: unknownId },
      bronzeMessage(encoder, change('OK1')),
    ]);
    await waitFor(async () => (await readToEnd(ctx, ctx.topics.deadLetter)).length === 2, {
      timeoutMs: 60_000,
      intervalMs: 500,
      what: 'two dead letters',
    });

    const list = await cdc(['dlq', 'list', '--json']);
    expect(list.code).toBe(0);
    const listed = (JSON.parse(list.stdout) as Listed[]).sort((a, b) =>
      (a.key ?? '').localeCompare(b.key ?? ''),
    );
    expect(listed.map((l) => [l.key, l.errorCode, l.size, l.replayOf])).toEqual([
      ['G1', 'WRONG_MAGIC_BYTE', 15, null],
      ['G2', 'UNKNOWN_SCHEMA_ID', 12, null],
    ]);
    expect(listed[1]!.errorMessage).toMatch(/schema/i);
    const filtered = await cdc(['dlq', 'list', '--code', 'UNKNOWN_SCHEMA_ID']);
    expect(filtered.stdout).toContain('1 dead letter(s)');
    expect(filtered.stdout).toContain('UNKNOWN_SCHEMA_ID');
    expect((await cdc(['dlq', 'list', '--since', '2999-01-01T00:00:00Z'])).stdout).toContain(
      'no dead letters',
    );

    const show = await cdc(['dlq', 'show', listed[0]!.position]);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('WRONG_MAGIC_BYTE');
    expect(show.stdout).toContain('6e 6f 74 20 61 76 72 6f'); // "not avro"
    expect(show.stdout).toContain('not a Confluent frame');
    expect(show.stdout).toMatch(/decoded now: does not decode/);
    expect((await cdc(['dlq', 'show', '9/999999'])).code).toBe(2);

    // A dead letter whose cause is gone: its bytes name a schema the registry knows now.
    await produceAll(ctx.kafka, ctx.topics.deadLetter, [
      {
        key: 'FIXED',
        value: encoder.encode(change('FIXED')),
        headers: {
          'dlq.error.code': 'UNKNOWN_SCHEMA_ID',
          'dlq.error.message': 'schema id unknown to the registry (at the time)',
          'dlq.source.topic': ctx.topics.bronze,
          'dlq.source.partition': '0',
          'dlq.source.offset': '99',
          'dlq.source.timestamp': String(Date.now()),
        },
      },
    ]);

    const bronzeBefore = await endOffsets(ctx, ctx.topics.bronze);
    const plan = await cdc(['dlq', 'replay', '--json']);
    expect(plan.code).toBe(0);
    expect(JSON.parse(plan.stdout)).toMatchObject({ executed: false, sent: 0 });
    expect((JSON.parse(plan.stdout) as { replay: string[] }).replay).toHaveLength(3);
    expect(await endOffsets(ctx, ctx.topics.bronze)).toEqual(bronzeBefore);

    const run = await cdc(['dlq', 'replay', '--execute']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('replayed 3 dead letter(s)');
    // The fixed one flows on to silver (once); the two others are dead-lettered again.
    await waitFor(async () => (await readToEnd(ctx, ctx.topics.deadLetter)).length === 5, {
      timeoutMs: 60_000,
      intervalMs: 500,
      what: 'the two still undecodable replays dead-lettered again',
    });
    await waitFor(async () => (await readSilver(ctx)).length === 2, {
      timeoutMs: 60_000,
      intervalMs: 500,
      what: 'the fixed record enriched',
    });
    const silver = await readSilver(ctx);
    expect(silver.map((s) => s.after?.booking_id).sort()).toEqual(['FIXED', 'OK1']);
    await waitAggregated(ctx, db, 'the aggregator to apply the replayed record');
    expect(movie()).toEqual({ total_bookings: 2, total_active_revenue_cents: 6000 });
    const replayed = (await readToEnd(ctx, ctx.topics.bronze)).filter(
      (m) => m.headers?.['dlq.replay.of'] !== undefined,
    );
    expect(replayed).toHaveLength(3);
    const again = JSON.parse((await cdc(['dlq', 'list', '--json'])).stdout) as Listed[];
    expect(
      again
        .filter((l) => l.replayOf !== null)
        .map((l) => l.key)
        .sort(),
    ).toEqual(['G1', 'G2']);

    // Replaying the same selection again: nothing to send, nothing changes.
    const ends = {
      bronze: await endOffsets(ctx, ctx.topics.bronze),
      deadLetter: await endOffsets(ctx, ctx.topics.deadLetter),
    };
    const twice = await cdc(['dlq', 'replay', '--execute', '--json']);
    expect(twice.code).toBe(0);
    expect(JSON.parse(twice.stdout)).toMatchObject({ sent: 0, replay: [] });
    expect((JSON.parse(twice.stdout) as { alreadyReplayed: string[] }).alreadyReplayed).toHaveLength(3);
    expect((JSON.parse(twice.stdout) as { repeats: string[] }).repeats).toHaveLength(2);
    expect(await endOffsets(ctx, ctx.topics.bronze)).toEqual(ends.bronze);
    expect(await endOffsets(ctx, ctx.topics.deadLetter)).toEqual(ends.deadLetter);
    expect((await readSilver(ctx)).length).toBe(2);
    await waitAggregated(ctx, db, 'the aggregator after the second replay');
    expect(movie()).toEqual({ total_bookings: 2, total_active_revenue_cents: 6000 });

    // --force re-sends one anyway: it reaches silver again, and the version rule counts it once.
    const fixed = again.find((l) => l.key === 'FIXED')!.position;
    const forced = await cdc(['dlq', 'replay', fixed, '--force', '--execute', '--json']);
    expect(JSON.parse(forced.stdout)).toMatchObject({ replay: [fixed], sent: 1 });
    await waitFor(async () => (await readSilver(ctx)).length === 3, {
      timeoutMs: 60_000,
      intervalMs: 500,
      what: 'the forced replay enriched',
    });
    await waitAggregated(ctx, db, 'the aggregator after the forced replay');
    expect(movie()).toEqual({ total_bookings: 2, total_active_revenue_cents: 6000 });
  });
});
