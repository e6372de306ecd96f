import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { EnrichedBooking } from '@cdc/core';
import { ReadModelWriter, storedFromImage } from '../../src';

/**
 * The writer's booking-id filter: loaded at open from the stored bookings and kept up to date by
 * the writer, it may only say "certainly not stored" of an id that is not: every stored booking
 * is still found, after a re-open too (no false negatives), whatever the cache holds.
 */
const image = (id: string): EnrichedBooking => ({
  booking_id: id,
  customer_id: 'C1',
  movie_id: 'M1',
  booking_date: 1_756_893_600_000,
  status: 'BOOKED',
  ticket_count: 2,
  ticket_price: 1250,
  created_at: 11,
  updated_at: 12,
  version: 1,
  total_amount: 2500,
  booking_status_category: 'ACTIVE',
  booking_size_category: 'GROUP',
  price_category: 'STANDARD',
  active_revenue: 2500,
  lost_revenue: 0,
  booking_date_only: '2025-09-03',
  booking_hour: 10,
  day_of_week: 3,
  is_valid_booking: true,
  validation_errors: [],
});

function write(w: ReadModelWriter, ids: string[]): void {
  const bookings = ids.map((id) => storedFromImage(image(id), 1, 0, 0, `ev-${id}`, 1));
  w.db.transaction(() => w.writeDelta({ bookings, movies: new Map() }, 0, []))();
}

test.each([true, false])(
  'every stored booking is found (filter %s), before and after a re-open',
  (bookingFilter) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cdc-booking-filter-'));
    try {
      const file = path.join(dir, 'db.sqlite');
      const ids = Array.from({ length: 70_000 }, (_, i) => `b-${i.toString(36)}-${(i * 7919) % 10007}`);
      let w = ReadModelWriter.open(file, { bookingCacheSize: 0, bookingFilter });
      write(w, ids.slice(0, 40_000));
      for (const id of ids.slice(0, 40_000)) expect(w.source.booking(id)?.version).toBe(1);
      w.close();
      // Re-opened: loaded from SQLite (more than one chunk), then kept up to date by the writer.
      w = ReadModelWriter.open(file, { bookingCacheSize: 0, bookingFilter });
      write(w, ids.slice(40_000));
      const missing = ids.filter((id) => w.source.booking(id) === undefined);
      expect(missing).toEqual([]);
      for (let i = 0; i < 1000; i++) expect(w.source.booking(`never-${i}`)).toBeUndefined();
      w.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test('a failed transaction leaves the filter usable (its ids are only false positives)', () => {
  const w = ReadModelWriter.open(':memory:', { bookingCacheSize: 0 });
  expect(() =>
    w.db.transaction(() => {
      write(w, ['x1', 'x2']);
      throw new Error('rolled back');
    })(),
  ).toThrow('rolled back');
  expect(w.source.booking('x1')).toBeUndefined();
  write(w, ['x1']);
  expect(w.source.booking('x1')?.version).toBe(1);
  w.close();
});
