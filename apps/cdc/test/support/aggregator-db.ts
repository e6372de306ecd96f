import type Database from 'better-sqlite3';
import { waitFor } from '@cdc/core';
import { openReadOnly } from '@cdc/read-model';
import type { TestContext } from '@cdc/testing';
import { endOffsets } from '@cdc/testing';

/**
 * What the CLI tests read of the aggregator's SQLite database (read-only, as the UI does): its
 * tables for comparison, and when it has applied silver to its end.
 */
export function withDb<T>(file: string, read: (db: Database.Database) => T): T {
  const db = openReadOnly(file);
  try {
    return read(db);
  } finally {
    db.close();
  }
}

/**
 * Every table a rebuild must reproduce, in a stable order: the current rows, the KPIs (without
 * the columns that say when and in which order they were written: updated_at, snapshot_version),
 * the reference counts behind the distinct KPIs and the applied offsets. batch_history and meta
 * record how the database was written, not what it holds.
 */
export type DbTables = Record<
  'bookings' | 'movie_kpis' | 'movie_day_counts' | 'movie_hour_counts' | 'applied_offsets',
  Record<string, unknown>[]
>;

export function dbTables(file: string): DbTables {
  return withDb(file, (db) => {
    const kpiColumns = (db.prepare('SELECT * FROM movie_kpis LIMIT 0').columns() as { name: string }[])
      .map((c) => c.name)
      .filter((c) => c !== 'updated_at' && c !== 'snapshot_version');
    const all = (sql: string) => db.prepare(sql).all() as Record<string, unknown>[];
    return {
      bookings: all('SELECT * FROM bookings ORDER BY booking_id'),
      movie_kpis: all(`SELECT ${kpiColumns.join(', ')} FROM movie_kpis ORDER BY movie_key`),
      movie_day_counts: all('SELECT * FROM movie_day_counts ORDER BY 1, 2'),
      movie_hour_counts: all('SELECT * FROM movie_hour_counts ORDER BY 1, 2'),
      applied_offsets: all('SELECT * FROM applied_offsets ORDER BY 1, 2'),
    };
  });
}

/** Waits until the aggregator's database has applied silver up to its end offsets as of the call. */
export async function waitAggregated(ctx: TestContext, file: string, what: string): Promise<void> {
  const ends = await endOffsets(ctx, ctx.topics.silver);
  await waitFor(
    () => {
      try {
        return withDb(file, (db) => {
          const applied = new Map(
            (
              db
                .prepare('SELECT partition, next_offset FROM applied_offsets WHERE topic = ?')
                .all(ctx.topics.silver) as { partition: number; next_offset: number }[]
            ).map((r) => [r.partition, r.next_offset]),
          );
          return [...ends].every(([p, end]) => end === 0 || (applied.get(p) ?? 0) >= end);
        });
      } catch {
        return false; // not created yet
      }
    },
    { timeoutMs: 60_000, intervalMs: 250, what },
  );
}
