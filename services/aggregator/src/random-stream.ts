import type { Booking, BookingChange, Op } from '@cdc/core';

/**
 * A seeded random stream of bronze booking changes for tests and benchmarks: creates, snapshot
 * reads, updates (status flips, movie moves, bad counts and prices, missing ids, future dates),
 * deletes, re-creates after a delete, exact duplicates and stale re-deliveries of older changes.
 * Deterministic for a seed.
 */
export interface StreamOptions {
  seed?: number;
  bookings?: number;
  movies?: number;
  /** Share of events that re-deliver an earlier event (duplicate, or stale when newer ones exist). */
  redeliveryRate?: number;
  /** Share of updates/creates that produce an invalid record. */
  invalidRate?: number;
  startTsMs?: number;
}

/** mulberry32: a small, fast, seeded PRNG (returns [0, 1)). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface BookingState {
  current: Booking | null;
  version: number;
  deleted: boolean;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const STATUSES = ['BOOKED', 'BOOKED', 'BOOKED', 'CANCELLED', 'CANCELLED', 'PENDING'];

export function createChangeStream(options: StreamOptions = {}): () => BookingChange {
  const rnd = prng(options.seed ?? 1);
  const nBookings = options.bookings ?? 2000;
  const nMovies = options.movies ?? 25;
  const redeliveryRate = options.redeliveryRate ?? 0.1;
  const invalidRate = options.invalidRate ?? 0.05;
  const startTs = options.startTsMs ?? Date.UTC(2025, 8, 1);
  const int = (n: number) => Math.floor(rnd() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;
  const states: BookingState[] = Array.from({ length: nBookings }, () => ({
    current: null,
    version: 0,
    deleted: false,
  }));
  const recent: BookingChange[] = [];
  let seq = 0;

  const movieId = (): string | null =>
    rnd() < 0.02 ? null : `M${String(1 + int(nMovies)).padStart(3, '0')}`;
  const bookingDate = (ts: number): number =>
    rnd() < invalidRate * 0.3
      ? ts + (1 + int(48)) * HOUR_MS // in the future: invalid
      : startTs + int(30) * DAY_MS + int(24) * HOUR_MS + int(4) * 15 * 60_000;
  const ticketCount = (): number => (rnd() < invalidRate * 0.3 ? -int(2) : 1 + int(rnd() < 0.2 ? 8 : 4));
  const ticketPrice = (): number => (rnd() < invalidRate * 0.3 ? 0 : 500 + 50 * int(50));
  const customer = (): string | null => (rnd() < invalidRate * 0.2 ? null : `C${int(500)}`);

  function emit(op: Op, before: Booking | null, after: Booking | null, ts: number): BookingChange {
    seq += 1;
    const change: BookingChange = {
      event_id: `ev-${options.seed ?? 1}-${seq}`,
      op,
      before,
      after,
      ts_ms: ts,
      source: { name: 'random', seq },
    };
    recent.push(change);
    if (recent.length > 4000) recent.splice(0, 1000);
    return change;
  }

  return () => {
    const ts = startTs + 31 * DAY_MS + seq * 10;
    if (recent.length > 0 && rnd() < redeliveryRate) {
      // An exact re-delivery of a recent event: a duplicate, or stale when newer ones followed.
      return recent[recent.length - 1 - int(Math.min(recent.length, 2000))] as BookingChange;
    }
    const i = int(nBookings);
    const st = states[i] as BookingState;
    const id = `B${String(i).padStart(6, '0')}`;
    if (st.current === null) {
      st.version += 1;
      const b: Booking = {
        booking_id: id,
        customer_id: customer(),
        movie_id: movieId(),
        booking_date: bookingDate(ts),
        status: rnd() < 0.9 ? 'BOOKED' : pick(STATUSES),
        ticket_count: ticketCount(),
        ticket_price: ticketPrice(),
        created_at: ts,
        updated_at: ts,
        version: st.version,
      };
      st.current = b;
      st.deleted = false;
      return emit(rnd() < 0.05 ? 'r' : 'c', null, b, ts);
    }
    const before = st.current;
    if (rnd() < 0.1) {
      st.current = null;
      st.deleted = true;
      st.version += 1;
      return emit('d', before, null, ts);
    }
    st.version += 1;
    const after: Booking = { ...before, version: st.version, updated_at: ts };
    const what = rnd();
    if (what < 0.45) after.status = before.status === 'BOOKED' ? 'CANCELLED' : pick(STATUSES);
    else if (what < 0.65) after.movie_id = movieId();
    else if (what < 0.75) after.ticket_count = ticketCount();
    else if (what < 0.85) after.ticket_price = ticketPrice();
    else if (what < 0.92) after.booking_date = bookingDate(ts);
    else if (what < 0.96) after.customer_id = customer();
    // else: an update that changes nothing visible
    st.current = after;
    return emit('u', before, after, ts);
  };
}

/** `n` events of a random stream. */
export function randomChanges(n: number, options: StreamOptions = {}): BookingChange[] {
  const next = createChangeStream(options);
  return Array.from({ length: n }, next);
}
