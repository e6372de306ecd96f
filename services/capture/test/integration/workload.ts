import type { Client } from 'pg';
import { ORACLE_SQL, type KpiRow, type SeededRandom } from '@cdc/testing';

/**
 * A random SQL workload on raw_movie_bookings: inserts (some with bad data: no customer or movie,
 * non-positive counts or prices, booking dates in the future), cancellations and re-bookings,
 * price, ticket and movie changes, deletes, in transactions of several statements, some changing
 * one booking many times. It tallies the event counters the pipeline must show (the table holds
 * only the current rows); `countEvents = false` while loading rows before the connector (a snapshot).
 */
export interface EventTally {
  new_bookings: number;
  updates: number;
  status_changes: number;
  deleted_bookings: number;
}

export class Workload {
  readonly events = new Map<string, EventTally>();
  private readonly live = new Map<string, { movie: string | null; status: string }>();
  private next = 0;

  /** False while loading rows a snapshot reads (no events). */
  countEvents = true;

  constructor(
    /** Replaced by a new connection after a database restart. */
    public db: Client,
    private readonly random: SeededRandom,
  ) {}

  /** Runs `transactions` transactions of 1–6 statements each. */
  async run(transactions: number): Promise<void> {
    for (let t = 0; t < transactions; t++) {
      await this.db.query('BEGIN');
      const n = this.random.int(1, 6);
      for (let i = 0; i < n; i++) await this.step();
      await this.db.query('COMMIT');
    }
  }

  private tally(movie: string | null): EventTally {
    const key = movie ?? '(none)';
    let t = this.events.get(key);
    if (!t)
      this.events.set(key, (t = { new_bookings: 0, updates: 0, status_changes: 0, deleted_bookings: 0 }));
    return t;
  }

  private async step(): Promise<void> {
    const r = this.random;
    const ids = [...this.live.keys()];
    const roll = r.float();
    if (ids.length < 5 || roll < 0.35) return this.insert();
    const id = r.oneOf(ids);
    if (roll < 0.5) return this.update(id, { status: 'CANCELLED' });
    if (roll < 0.6) return this.update(id, { status: 'BOOKED' });
    if (roll < 0.7) return this.update(id, { ticket_price: this.price() });
    if (roll < 0.78) return this.update(id, { ticket_count: this.count() });
    if (roll < 0.83) return this.update(id, { movie_id: this.movie() });
    if (roll < 0.9) {
      // One booking changed many times in one transaction.
      for (let i = 0; i < r.int(2, 5); i++)
        await this.update(id, { status: r.oneOf(['BOOKED', 'CANCELLED']) });
      return;
    }
    return this.remove(id);
  }

  private movie(): string | null {
    return this.random.chance(0.05) ? null : `M${this.random.int(1, 6)}`;
  }
  private price(): string {
    const cents = this.random.chance(0.05) ? -this.random.int(1, 500) : this.random.int(500, 3000);
    return (cents / 100).toFixed(2);
  }
  private count(): number {
    return this.random.chance(0.05) ? this.random.int(-1, 0) : this.random.int(1, 7);
  }

  private async insert(): Promise<void> {
    const r = this.random;
    const id = `b${this.next++}`;
    const movie = this.movie();
    const days = r.chance(0.05) ? -2 : r.int(1, 30); // in the future: bad data
    await this.db.query(
      `INSERT INTO raw_movie_bookings (booking_id, customer_id, movie_id, booking_date, status, ticket_count, ticket_price)
       VALUES ($1, $2, $3, now() - make_interval(days => $4, hours => $5), 'BOOKED', $6, $7)`,
      [id, r.chance(0.05) ? null : `C${r.int(1, 50)}`, movie, days, r.int(0, 23), this.count(), this.price()],
    );
    this.live.set(id, { movie, status: 'BOOKED' });
    if (this.countEvents) this.tally(movie).new_bookings++;
  }

  private async update(
    id: string,
    set: Partial<{ status: string; ticket_price: string; ticket_count: number; movie_id: string | null }>,
  ): Promise<void> {
    const [column, value] = Object.entries(set)[0]!;
    await this.db.query(
      `UPDATE raw_movie_bookings SET ${column} = $2, updated_at = now() WHERE booking_id = $1`,
      [id, value],
    );
    const row = this.live.get(id)!;
    const next = {
      movie: 'movie_id' in set ? (set.movie_id ?? null) : row.movie,
      status: set.status ?? row.status,
    };
    this.live.set(id, next);
    if (!this.countEvents) return;
    const t = this.tally(next.movie);
    t.updates++;
    if (next.status !== row.status) t.status_changes++;
  }

  private async remove(id: string): Promise<void> {
    await this.db.query('DELETE FROM raw_movie_bookings WHERE booking_id = $1', [id]);
    const row = this.live.get(id)!;
    this.live.delete(id);
    if (this.countEvents) this.tally(row.movie).deleted_bookings++;
  }
}

export type { KpiRow };

/** Oracle rows with the tallied event counters, keyed by movie. */
export async function oracle(db: Client, events: Map<string, EventTally>): Promise<Map<string, KpiRow>> {
  const rows = (await db.query<KpiRow>(ORACLE_SQL)).rows;
  const out = new Map<string, KpiRow>();
  const zero: EventTally = { new_bookings: 0, updates: 0, status_changes: 0, deleted_bookings: 0 };
  for (const r of rows) out.set(String(r.movie_key), { ...r, ...zero, ...events.get(String(r.movie_key)) });
  for (const [movie, e] of events)
    if (!out.has(movie)) out.set(movie, { movie_key: movie, total_bookings: 0, ...e });
  return out;
}
