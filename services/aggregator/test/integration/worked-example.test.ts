import path from 'node:path';
import Database from 'better-sqlite3';
import { createDecoder, createRegistryClient, loadSchema, waitFor, type MovieKpis } from '@cdc/core';
import { createTestContext, readUntil, type TestContext } from '@cdc/testing';
import { startAggregator, type RunningAggregator } from '../../src';
import { kpiDifferences } from '../support/reference';
import { WORKED_EXAMPLE_TABLE, workedExampleChanges, workedExampleDiff } from '../support/worked-example';
import {
  produceTransactional,
  silverEncoder,
  silverMessages,
  tempDir,
  testConfig,
  waitForOffsets,
} from '../support/kafka';

describe("the contract's worked example through the aggregator", () => {
  let ctx: TestContext;
  let aggregator: RunningAggregator;
  const tmp = tempDir('worked');

  beforeAll(async () => {
    ctx = await createTestContext({ partitions: 3, name: 'agg-worked' });
  });
  afterAll(async () => {
    await aggregator?.stop();
    await ctx.cleanup();
    tmp.remove();
  });

  test('yields exactly the contract table, in SQLite and on gold', async () => {
    const encoder = await silverEncoder(ctx);
    await produceTransactional(ctx, silverMessages(encoder, workedExampleChanges()));
    const dbPath = path.join(tmp.dir, 'aggregator.db');
    aggregator = await startAggregator(testConfig(ctx, dbPath), ctx.logger);
    const end = await waitForOffsets(ctx, () => aggregator.store.storedOffsets(ctx.topics.silver));
    // The stored offsets are the end of the topic, past the transaction markers.
    expect(aggregator.store.storedOffsets(ctx.topics.silver)).toEqual(end);

    // The UI's view: a separate read-only connection.
    const ui = new Database(dbPath, { readonly: true, fileMustExist: true });
    const rows = ui.prepare('SELECT * FROM movie_kpis ORDER BY movie_key').all() as Record<string, unknown>[];
    expect(rows.map((r) => r.movie_key)).toEqual(WORKED_EXAMPLE_TABLE.map((l) => l.movie_key));
    for (const line of WORKED_EXAMPLE_TABLE) {
      expect(workedExampleDiff(rows.find((r) => r.movie_key === line.movie_key) ?? {}, line)).toEqual([]);
    }
    const times = ui.prepare('SELECT DISTINCT booking_hour, day_of_week FROM bookings').raw().all();
    expect(times).toEqual([[10, 3]]);
    expect(kpiDifferences(ui)).toEqual([]);
    ui.close();

    // Gold: the latest snapshot per movie equals the table, versions increase.
    const decoder = createDecoder<MovieKpis>(
      createRegistryClient(ctx.connection.registryUrl),
      loadSchema('MovieKpis').type,
    );
    const versions = await waitFor(
      () => {
        const v = aggregator.store.snapshotVersions;
        return v.published === v.assigned && v.assigned >= 5 && v;
      },
      { timeoutMs: 30_000, what: 'every snapshot published' },
    );
    const messages = await readUntil(ctx, ctx.topics.gold, (m) => m.length >= versions.assigned);
    const latest = new Map<string, MovieKpis>();
    for (const m of messages) {
      const v = await decoder.decode(m.value);
      const key = m.key?.toString() ?? '';
      const prev = latest.get(key);
      if (!prev || prev.snapshot_version < v.snapshot_version) latest.set(key, v);
    }
    expect([...latest.keys()].sort()).toEqual(WORKED_EXAMPLE_TABLE.map((l) => l.movie_key));
    for (const line of WORKED_EXAMPLE_TABLE) {
      const v = latest.get(line.movie_key) as MovieKpis;
      expect(v.movie_id).toBe(line.movie_key);
      expect(workedExampleDiff(v, line)).toEqual([]);
    }
  });

  test('re-delivered changes are skipped and garbage is counted, without stalling', async () => {
    const encoder = await silverEncoder(ctx);
    const before = aggregator.store.db.prepare('SELECT * FROM movie_kpis ORDER BY movie_key').all();
    const producer = ctx.track(ctx.kafka.producer());
    await producer.connect();
    await producer.send({
      topic: ctx.topics.silver,
      messages: [
        ...silverMessages(encoder, workedExampleChanges()),
        { key: 'junk', value: Buffer.from('not avro') },
      ],
    });
    await waitForOffsets(ctx, () => aggregator.store.storedOffsets(ctx.topics.silver));
    const after = aggregator.store.db.prepare('SELECT * FROM movie_kpis ORDER BY movie_key').all();
    expect(after).toEqual(before);

    const metrics = await waitFor(
      async () => {
        const text = await (await fetch(`http://127.0.0.1:${aggregator.opsPort}/metrics`)).text();
        return /cdc_aggregator_records_undecodable_total\{[^}]*\} 1/.test(text) && text;
      },
      { timeoutMs: 10_000, what: 'metrics' },
    );
    expect(metrics).toMatch(/cdc_aggregator_changes_applied_total\{[^}]*\} 7\n/);
    expect(metrics).toMatch(/cdc_aggregator_changes_skipped_total\{[^}]*\} 7\n/);
    expect(metrics).toMatch(/cdc_aggregator_batch_duration_seconds_count/);
    expect(metrics).toMatch(/cdc_aggregator_last_batch_event_age_seconds/);
    const health = await fetch(`http://127.0.0.1:${aggregator.opsPort}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true, status: 'running' });
  });
});
