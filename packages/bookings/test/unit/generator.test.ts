import type { Booking } from '@cdc/core';
import { testSeed } from '@cdc/testing';
import {
  CHANGE_KINDS,
  createDeriver,
  createGenerator,
  DEFAULT_GENERATOR,
  type ChangeKind,
  type Generated,
  type GeneratorConfig,
} from '../../src';

const SEED = testSeed('producer generator');
const T0 = Date.UTC(2025, 8, 10, 12, 0, 0);
const DAY = 86_400_000;

const config = (over: Partial<GeneratorConfig> = {}): GeneratorConfig => ({
  ...DEFAULT_GENERATOR,
  seed: SEED,
  runId: 'run1',
  bookingDateFromMs: T0 - 7 * DAY,
  ...over,
});

/** n events on a clock that advances 7 ms per event. */
function generate(n: number, c: GeneratorConfig = config()): Generated[] {
  const g = createGenerator(c);
  const out: Generated[] = [];
  for (let i = 0; i < n; i++) out.push(g.next(T0 + i * 7));
  return out;
}

const share = (events: Generated[], kind: ChangeKind) =>
  (events.filter((e) => e.kind === kind).length / events.length) * 100;

describe('the generator', () => {
  it('gives the same events for the same seed, and others for another seed', () => {
    const a = generate(5000);
    const b = generate(5000);
    expect(b).toEqual(a);
    const c = generate(5000, config({ seed: SEED + 1 }));
    expect(c).not.toEqual(a);
    expect(c.map((e) => e.change.after?.movie_id)).not.toEqual(a.map((e) => e.change.after?.movie_id));
  });

  it('formats ids like the contract: B000001, M001, C0001; event ids <run>-<seq>', () => {
    // A clean record (a dirty one may lack the movie or the customer on purpose).
    const [first] = generate(1, config({ firstSeq: 7, firstBookingNumber: 123, dirtyRatio: 0 }));
    expect(first!.change.op).toBe('c');
    expect(first!.change.after!.booking_id).toBe('B000123');
    expect(first!.change.after!.movie_id).toMatch(/^M\d{3}$/);
    expect(first!.change.after!.customer_id).toMatch(/^C\d{4}$/);
    expect(first!.change.event_id).toBe('run1-7');
    expect(first!.change.source).toEqual({ name: 'cdc-producer', seq: 7 });
  });

  it('keeps every invariant over 100,000 events', () => {
    const events = generate(100_000, config({ maxLiveBookings: 5000, dirtyRatio: 0.1 }));
    const current = new Map<string, Booking>();
    const deleted = new Set<string>();
    const eventIds = new Set<string>();
    let seq = 0;
    let ts = -Infinity;
    const problems: string[] = [];
    const check = (ok: boolean, what: string, i: number) => {
      if (!ok && problems.length < 10) problems.push(`event ${i}: ${what}`);
    };
    events.forEach(({ change: c, kind }, i) => {
      check(c.source.seq === (seq === 0 ? c.source.seq : seq + 1), 'seq +1', i);
      seq = c.source.seq;
      check(!eventIds.has(c.event_id), 'unique event_id', i);
      eventIds.add(c.event_id);
      check(c.ts_ms >= ts, 'ts_ms non-decreasing', i);
      ts = c.ts_ms;
      if (c.op === 'c') {
        const a = c.after!;
        check(c.before === null, 'create has no before', i);
        check(!current.has(a.booking_id) && !deleted.has(a.booking_id), 'create of a new id', i);
        check(a.version === 1 && a.created_at === c.ts_ms && a.updated_at === c.ts_ms, 'create v1 at ts', i);
        current.set(a.booking_id, a);
      } else if (c.op === 'u') {
        const b = c.before!;
        const a = c.after!;
        check(current.get(b.booking_id) === b, 'update before = previous after', i);
        check(a.booking_id === b.booking_id, 'same booking', i);
        check(a.version === b.version + 1, 'version +1', i);
        check(a.created_at === b.created_at && a.updated_at === c.ts_ms, 'timestamps', i);
        if (kind === 'cancel') check(b.status === 'BOOKED' && a.status === 'CANCELLED', 'cancel', i);
        current.set(a.booking_id, a);
      } else {
        const b = c.before!;
        check(c.op === 'd' && c.after === null, 'delete has no after', i);
        check(current.get(b.booking_id) === b, 'delete before = current', i);
        current.delete(b.booking_id);
        deleted.add(b.booking_id);
      }
    });
    expect(problems).toEqual([]);
    expect(deleted.size).toBeGreaterThan(1000);
  });

  it('keeps the operation mix within a percentage point', () => {
    for (const mix of [DEFAULT_GENERATOR.mix, { create: 40, cancel: 30, update: 20, delete: 10 }]) {
      const events = generate(100_000, config({ mix }));
      for (const k of CHANGE_KINDS) expect(Math.abs(share(events, k) - mix[k])).toBeLessThan(1);
    }
    const onlyCreates = generate(1000, config({ mix: { create: 100, cancel: 0, update: 0, delete: 0 } }));
    expect(onlyCreates.every((e) => e.change.op === 'c')).toBe(true);
  });

  it('makes valid records valid and dirty ones invalid, at the chosen ratio', () => {
    const events = generate(50_000, config({ dirtyRatio: 0.2 }));
    const deriver = createDeriver('UTC');
    const touched = events.filter((e) => e.kind === 'create' || e.kind === 'update');
    const dirty = touched.filter((e) => e.defect !== null);
    expect(Math.abs(dirty.length / touched.length - 0.2)).toBeLessThan(0.01);
    for (const e of events.filter((x) => x.kind === 'create')) {
      const img = deriver.image(e.change.after!, e.change.ts_ms);
      if (e.defect === null) expect(img.validation_errors).toEqual([]);
      else expect(img.validation_errors).toEqual([e.defect]);
    }
    const clean = generate(20_000, config({ dirtyRatio: 0 }));
    for (const e of clean) {
      for (const img of [e.change.before, e.change.after]) {
        if (img) expect(deriver.image(img, e.change.ts_ms).is_valid_booking).toBe(true);
      }
    }
  });

  it('has a realistic shape: popular movies, prices 8-30, mostly 1-4 tickets, an evening peak', () => {
    const creates = generate(60_000, config({ dirtyRatio: 0 }))
      .filter((e) => e.kind === 'create')
      .map((e) => e.change.after!);
    const perMovie = new Map<string, number>();
    for (const b of creates) perMovie.set(b.movie_id!, (perMovie.get(b.movie_id!) ?? 0) + 1);
    const ranked = [...perMovie.values()].sort((a, b) => b - a);
    const top5 = ranked.slice(0, 5).reduce((a, b) => a + b, 0);
    expect(top5 / creates.length).toBeGreaterThan(0.4); // 5 of 50 movies
    expect(ranked[0]! / ranked[ranked.length - 1]!).toBeGreaterThan(20);

    expect(creates.every((b) => b.ticket_price >= 800 && b.ticket_price <= 3000)).toBe(true);
    expect(new Set(creates.map((b) => b.ticket_price)).size).toBeGreaterThan(20);
    const small = creates.filter((b) => b.ticket_count >= 1 && b.ticket_count <= 4).length;
    expect(small / creates.length).toBeGreaterThan(0.85);
    expect(creates.some((b) => b.ticket_count >= 5)).toBe(true);

    const hours = new Array<number>(24).fill(0);
    for (const b of creates) hours[new Date(b.booking_date).getUTCHours()]!++;
    const evening = hours[18]! + hours[19]!;
    const night = hours[3]! + hours[4]!;
    expect(evening).toBeGreaterThan(night * 10);
    expect(creates.every((b) => b.booking_date >= T0 - 7 * DAY && b.booking_date <= T0 + 60_000 * 7)).toBe(
      true,
    );
  });

  it('follows the daily curve in the chosen time zone and keeps the booking-date range', () => {
    const from = Date.UTC(2025, 5, 1);
    const to = Date.UTC(2025, 5, 15);
    const creates = generate(
      30_000,
      config({ dirtyRatio: 0, timeZone: 'America/New_York', bookingDateFromMs: from, bookingDateToMs: to }),
    )
      .filter((e) => e.kind === 'create')
      .map((e) => e.change.after!.booking_date);
    expect(creates.every((d) => d >= from && d <= to)).toBe(true);
    const deriver = createDeriver('America/New_York');
    const hours = new Array<number>(24).fill(0);
    for (const d of creates) {
      const img = deriver.image({ ...sample, booking_date: d }, d);
      hours[img.booking_hour]!++;
    }
    const peak = hours.indexOf(Math.max(...hours));
    expect(peak).toBeGreaterThanOrEqual(17);
    expect(peak).toBeLessThanOrEqual(20);
  });

  it('keeps its working set bounded: old bookings go dormant, never changed again', () => {
    const g = createGenerator(config({ maxLiveBookings: 100 }));
    for (let i = 0; i < 10_000; i++) g.next(T0 + i);
    const s = g.stats();
    expect(s.live).toBeLessThanOrEqual(100);
    expect(s.dormant).toBeGreaterThan(0);
    expect(Object.values(s.byKind).reduce((a, b) => a + b, 0)).toBe(10_000);
  });
});

const sample: Booking = {
  booking_id: 'B1',
  customer_id: 'C1',
  movie_id: 'M1',
  booking_date: 0,
  status: 'BOOKED',
  ticket_count: 1,
  ticket_price: 1000,
  created_at: 0,
  updated_at: 0,
  version: 1,
};
