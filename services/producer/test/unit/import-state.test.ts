import { createIdFilter, createStateStore, type ImportedBooking } from '../../src/import';

const booking = (id: string, cents = 1500): ImportedBooking => ({
  booking_id: id,
  customer_id: 'C1',
  movie_id: 'M1',
  booking_date: Date.UTC(2025, 8, 3, 10),
  status: 'BOOKED',
  ticket_count: 2,
  ticket_price: cents,
  created_at: Date.UTC(2025, 8, 3, 10),
  updated_at: Date.UTC(2025, 8, 3, 10),
});

describe('import: which booking ids the state store may hold', () => {
  it('never misses an id it was given, across growth beyond its first layer', () => {
    const filter = createIdFilter(1000);
    for (let i = 0; i < 50_000; i++) filter.add(`B${i}`);
    for (let i = 0; i < 50_000; i++) expect(filter.mayHave(`B${i}`)).toBe(true);
  });

  it('says "no" for nearly every id it was not given (about 1 % false positives per layer)', () => {
    const filter = createIdFilter(100_000);
    for (let i = 0; i < 100_000; i++) filter.add(`B${i}`);
    let falsePositives = 0;
    for (let i = 0; i < 100_000; i++) if (filter.mayHave(`X${i}`)) falsePositives++;
    expect(falsePositives).toBeLessThan(3000);
  });
});

describe('import: the state store', () => {
  it('finds the import’s own earlier rows and bronze’s bookings; nothing for ids it never held', () => {
    const store = createStateStore();
    try {
      expect(store.getMany(['B1', 'B2']).size).toBe(0);
      store.offer('B1', { version: 3, deleted: false, inBronze: true, image: booking('B1') });
      store.setMany([
        [
          'B2',
          {
            version: 1,
            deleted: false,
            inBronze: false,
            image: { ...booking('B2', 999), version: 1 } as ImportedBooking,
          },
        ],
      ]);
      const got = store.getMany(['B0', 'B1', 'B2', 'B3']);
      expect([...got.keys()].sort()).toEqual(['B1', 'B2']);
      expect(got.get('B1')).toEqual({ version: 3, deleted: false, inBronze: true, image: booking('B1') });
      expect(got.get('B2')).toEqual({
        version: 1,
        deleted: false,
        inBronze: false,
        image: booking('B2', 999),
      });
      expect(store.get('B3')).toBeUndefined();
      // An older version offered later (bronze read out of order) does not replace a newer one.
      store.offer('B1', { version: 2, deleted: true, inBronze: true, image: booking('B1', 1) });
      expect(store.get('B1')?.version).toBe(3);
    } finally {
      store.close();
    }
  });
});
