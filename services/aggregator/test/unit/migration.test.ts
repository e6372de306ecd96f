import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { BookingChange, EnrichedBookingChange } from '@cdc/core';
import { CHURN_MIX, disorderedChanges, enrich, testSeed } from '@cdc/testing';
import { SCHEMA_VERSION, ReadModelWriter, bookingsPage, storedSchemaVersion } from '@cdc/read-model';
import { AggregatorStore } from '../../src';
import { kpiDifferences } from '../support/reference';

/**
 * An aggregator upgraded in place keeps its database: a database of schema version 1 (before
 * derivation epochs) is migrated when opened for writing, keeps its rows, KPIs and offsets, and
 * then applies live changes and re-derivations exactly as a database created by this version.
 */
const SEED = testSeed('aggregator schema migration');

// The tables of schema version 1 as they were (the columns version 2 added come last).
const V1_BOOKINGS = [
  'booking_id',
  'version',
  'deleted',
  'movie_id',
  'customer_id',
  'booking_date',
  'booking_date_only',
  'booking_hour',
  'day_of_week',
  'status',
  'ticket_count',
  'ticket_price_cents',
  'total_amount_cents',
  'active_revenue_cents',
  'lost_revenue_cents',
  'booking_status_category',
  'booking_size_category',
  'price_category',
  'is_valid_booking',
  'validation_errors',
  'created_at',
  'updated_at',
  'event_id',
  'event_ts_ms',
];
const V1_HISTORY = [
  'id',
  'started_at',
  'duration_ms',
  'changes',
  'applied',
  'skipped',
  'movies_changed',
  'offsets',
  'snapshot_version',
];

const columnsOf = (db: Database.Database, table: string): string[] =>
  db.prepare(`SELECT name FROM pragma_table_info('${table}')`).pluck().all() as string[];

/** Turns a database written by this version into one of schema version 1. */
function downgradeToV1(file: string): void {
  const db = new Database(file);
  db.exec('ALTER TABLE bookings DROP COLUMN derivation_epoch');
  db.exec('ALTER TABLE batch_history DROP COLUMN rederived');
  db.prepare("UPDATE meta SET value = '1' WHERE key = 'schema_version'").run();
  expect(columnsOf(db, 'bookings')).toEqual(V1_BOOKINGS);
  expect(columnsOf(db, 'batch_history')).toEqual(V1_HISTORY);
  db.close();
}

function applyInBatches(store: AggregatorStore, changes: EnrichedBookingChange[], from: number): number {
  let offset = from;
  for (let i = 0; i < changes.length; i += 250) {
    const slice = changes.slice(i, i + 250);
    store.applyBatch({
      topic: 'silver',
      partition: 0,
      records: slice.map((change, j) => ({ offset: offset + j, change })),
      nextOffset: offset + slice.length,
    });
    offset += slice.length;
  }
  return offset;
}

describe('a database of schema version 1', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cdc-migration-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const bronze: BookingChange[] = disorderedChanges(6000, {
    seed: SEED,
    liveBookings: 500,
    movies: 20,
    mix: CHURN_MIX,
  });
  const before = bronze.slice(0, 3000).map((c) => enrich(c));
  // After the upgrade: live changes, interleaved with a backfill re-deriving everything in New York time.
  const after: EnrichedBookingChange[] = [];
  for (let i = 0; i < 3000; i++) {
    after.push(enrich(bronze[3000 + i] as BookingChange, { timeZone: 'America/New_York', epoch: 1 }));
    after.push(enrich(bronze[i] as BookingChange, { timeZone: 'America/New_York', epoch: 1 }));
  }

  test('is migrated on open, keeps its data, and then equals a database created by this version', () => {
    const file = path.join(dir, 'old.db');
    const old = AggregatorStore.open(file);
    const offset = applyInBatches(old, before, 0);
    old.close();
    downgradeToV1(file);

    const migrated = AggregatorStore.open(file);
    expect(storedSchemaVersion(migrated.db)).toBe(SCHEMA_VERSION);
    expect(columnsOf(migrated.db, 'bookings')).toEqual([...V1_BOOKINGS, 'derivation_epoch']);
    expect(columnsOf(migrated.db, 'batch_history')).toEqual([...V1_HISTORY, 'rederived']);
    // The old rows read as epoch 0, the epoch every record had before backfills existed.
    expect(migrated.db.prepare('SELECT DISTINCT derivation_epoch FROM bookings').pluck().all()).toEqual([0]);
    expect(migrated.storedOffsets('silver').get(0)).toBe(offset);
    expect(kpiDifferences(migrated.db)).toEqual([]);
    applyInBatches(migrated, after, offset);

    const fresh = AggregatorStore.open(':memory:');
    applyInBatches(fresh, [...before, ...after], 0);
    const kpiColumns = columnsOf(fresh.db, 'movie_kpis')
      .filter((c) => c !== 'updated_at' && c !== 'snapshot_version')
      .join(', ');
    for (const sql of [
      'SELECT * FROM bookings ORDER BY booking_id',
      `SELECT ${kpiColumns} FROM movie_kpis ORDER BY movie_key`,
      'SELECT * FROM movie_day_counts ORDER BY 1, 2',
      'SELECT * FROM movie_hour_counts ORDER BY 1, 2',
      'SELECT * FROM applied_offsets',
      'SELECT SUM(applied), SUM(skipped), SUM(rederived) FROM batch_history',
    ]) {
      expect([sql, migrated.db.prepare(sql).all()]).toEqual([sql, fresh.db.prepare(sql).all()]);
    }
    expect(kpiDifferences(migrated.db)).toEqual([]);
    const rederived = migrated.db.prepare('SELECT SUM(rederived) FROM batch_history').pluck().get();
    expect(rederived).toBeGreaterThan(100);
    // The readers' queries see the new column.
    const page = bookingsPage(migrated.db, { sort: 'derivation_epoch', order: 'desc', page: 1, pageSize: 5 });
    expect(page.rows[0]?.derivation_epoch).toBe(1);
    migrated.close();
    fresh.close();

    // Opening it again changes nothing.
    const again = AggregatorStore.open(file);
    expect(columnsOf(again.db, 'bookings')).toEqual([...V1_BOOKINGS, 'derivation_epoch']);
    again.close();
  });

  test('a database of a newer schema version is refused, saying what to do', () => {
    const file = path.join(dir, 'newer.db');
    AggregatorStore.open(file).close();
    const db = new Database(file);
    db.prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'").run(String(SCHEMA_VERSION + 1));
    db.close();
    let error: unknown;
    try {
      ReadModelWriter.open(file).close();
    } catch (err) {
      error = err;
    }
    expect(error).toMatchObject({ code: 'STORED_STATE_INVALID' });
    expect((error as Error).message).toContain('cdc aggregate --rebuild');
  });
});
