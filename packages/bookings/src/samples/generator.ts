import type { Booking, BookingChange } from '@cdc/core';
import { createRandom, cumulative, zipfWeights } from './random';
import { createBookingDateSampler } from './booking-dates';

/**
 * A pure, seeded generator of realistic booking changes: a few popular movies take most
 * bookings (Zipf-like), prices about 8-30 (integer cents), mostly 1-4 tickets with some large
 * groups, booking hours following a daily curve. Same config and same clock input, same events.
 *
 * Invariants: updates and deletes only touch live (created, not deleted) bookings; `before` is
 * the previous `after`; `version` is 1 on create and +1 per change (a delete's before.version is
 * the current one); `source.seq` +1 per event; `event_id` unique; `ts_ms` non-decreasing.
 */
export type ChangeKind = 'create' | 'cancel' | 'update' | 'delete';
export const CHANGE_KINDS: readonly ChangeKind[] = ['create', 'cancel', 'update', 'delete'];

/** Relative weights of the kinds of change (the CLI takes percentages that sum to 100). */
export type OpMix = Record<ChangeKind, number>;
export const DEFAULT_MIX: OpMix = { create: 60, cancel: 15, update: 20, delete: 5 };

/** The validation rules a dirty record breaks (one per dirty image), as the enricher names them. */
export const DEFECTS = [
  'customer_id_missing',
  'movie_id_missing',
  'ticket_count_not_positive',
  'ticket_price_not_positive',
  'booking_date_after_change',
] as const;
export type Defect = (typeof DEFECTS)[number];

export interface GeneratorConfig {
  seed: number;
  movies: number;
  customers: number;
  mix: OpMix;
  /** Share (0..1) of created or updated images given one defect. */
  dirtyRatio: number;
  /** IANA zone of the daily booking curve. */
  timeZone: string;
  bookingDateFromMs: number;
  /** Latest booking date; null = up to each change's time. Valid booking dates never pass ts_ms. */
  bookingDateToMs: number | null;
  /** Bookings the generator keeps changing; beyond this, random old ones go dormant (no event). */
  maxLiveBookings: number;
  sourceName: string;
  /** Prefix of event ids: `<runId>-<seq>`. */
  runId: string;
  firstSeq: number;
  firstBookingNumber: number;
  /** Zipf exponent of movie popularity. */
  popularity: number;
}

export const DEFAULT_GENERATOR: Omit<GeneratorConfig, 'bookingDateFromMs' | 'runId'> = {
  seed: 1,
  movies: 50,
  customers: 5000,
  mix: DEFAULT_MIX,
  dirtyRatio: 0.05,
  timeZone: 'UTC',
  bookingDateToMs: null,
  maxLiveBookings: 100_000,
  sourceName: 'cdc-producer',
  firstSeq: 1,
  firstBookingNumber: 1,
  popularity: 1.1,
};

export interface Generated {
  change: BookingChange;
  kind: ChangeKind;
  /** The defect given to the new image, if any. */
  defect: Defect | null;
}

export interface GeneratorStats {
  byKind: Record<ChangeKind, number>;
  dirty: number;
  /** Changes drawn as cancel/update/delete that became creates because nothing fitted. */
  fallbacks: number;
  live: number;
  dormant: number;
}

export interface Generator {
  /** The next change, at event time max(tsMs, previous ts). */
  next(tsMs: number): Generated;
  stats(): GeneratorStats;
}

interface Live {
  b: Booking;
  list: Live[];
  pos: number;
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');
export const bookingId = (n: number): string => `B${pad(n, 6)}`;
export const movieId = (n: number): string => `M${pad(n, 3)}`;
export const customerId = (n: number): string => `C${pad(n, 4)}`;

const MIN_PRICE = 800;
const MAX_PRICE = 3000;
const MINUTE_MS = 60_000;

export function createGenerator(config: GeneratorConfig): Generator {
  const r = createRandom(config.seed);
  const dates = createBookingDateSampler(config.timeZone, r);
  const kinds = cumulative(CHANGE_KINDS.map((k) => config.mix[k]));
  const movieCdf = cumulative(zipfWeights(config.movies, config.popularity));
  const movieIds = Array.from({ length: config.movies }, (_, i) => movieId(i + 1));
  const movieIndex = new Map(movieIds.map((id, i) => [id, i]));
  const basePrice = movieIds.map(() => r.int(MIN_PRICE / 50, MAX_PRICE / 50) * 50);
  const ticketCdf = cumulative([38, 34, 12, 9, 7]);

  const booked: Live[] = [];
  const cancelled: Live[] = [];
  let seq = config.firstSeq;
  let nextBooking = config.firstBookingNumber;
  let lastTs = -Infinity;
  const stats: GeneratorStats = {
    byKind: { create: 0, cancel: 0, update: 0, delete: 0 },
    dirty: 0,
    fallbacks: 0,
    live: 0,
    dormant: 0,
  };

  const add = (list: Live[], b: Booking): void => {
    list.push({ b, list, pos: list.length });
  };
  const remove = (l: Live): void => {
    const last = l.list.pop()!;
    if (last !== l) {
      l.list[l.pos] = last;
      last.pos = l.pos;
    }
  };
  const move = (l: Live, to: Live[]): void => {
    remove(l);
    l.list = to;
    l.pos = to.length;
    to.push(l);
  };
  const anyLive = (): Live => {
    const i = r.int(0, booked.length + cancelled.length - 1);
    return i < booked.length ? booked[i]! : cancelled[i - booked.length]!;
  };

  const ticketCount = (): number => {
    const k = r.pick(ticketCdf);
    if (k < 4) return k + 1;
    // Large groups: 5 and up, rarer as they grow.
    return Math.min(30, 5 + Math.floor(-Math.log(1 - r.float()) * 3));
  };
  const priceFor = (movie: number): number => {
    const base = basePrice[movie]!;
    const x = r.float();
    const p = x < 0.65 ? base : x < 0.85 ? base - r.int(1, 4) * 50 : base + r.int(1, 6) * 50;
    return Math.min(MAX_PRICE, Math.max(MIN_PRICE, p));
  };
  const bookingDate = (ts: number): number => {
    const to = config.bookingDateToMs === null ? ts : Math.min(config.bookingDateToMs, ts);
    return dates.sample(config.bookingDateFromMs, Math.max(config.bookingDateFromMs, to));
  };
  const maybeDirty = (b: Booking, ts: number): Defect | null => {
    if (!r.chance(config.dirtyRatio)) return null;
    const defect = DEFECTS[r.int(0, DEFECTS.length - 1)]!;
    if (defect === 'customer_id_missing') b.customer_id = null;
    else if (defect === 'movie_id_missing') b.movie_id = null;
    else if (defect === 'ticket_count_not_positive') b.ticket_count = r.int(-2, 0);
    else if (defect === 'ticket_price_not_positive') b.ticket_price = r.chance(0.5) ? 0 : -r.int(1, 40) * 50;
    else b.booking_date = ts + r.int(1, 30 * 24 * 60) * MINUTE_MS;
    stats.dirty++;
    return defect;
  };

  const event = (
    op: 'c' | 'u' | 'd',
    before: Booking | null,
    after: Booking | null,
    ts: number,
  ): BookingChange => {
    const s = seq++;
    return {
      event_id: `${config.runId}-${s}`,
      op,
      before,
      after,
      ts_ms: ts,
      source: { name: config.sourceName, seq: s },
    };
  };

  const create = (ts: number): Generated => {
    const movie = r.pick(movieCdf);
    const b: Booking = {
      booking_id: bookingId(nextBooking++),
      customer_id: customerId(r.int(1, config.customers)),
      movie_id: movieIds[movie]!,
      booking_date: bookingDate(ts),
      status: 'BOOKED',
      ticket_count: ticketCount(),
      ticket_price: priceFor(movie),
      created_at: ts,
      updated_at: ts,
      version: 1,
    };
    const defect = maybeDirty(b, ts);
    add(booked, b);
    if (booked.length + cancelled.length > config.maxLiveBookings) {
      remove(anyLive());
      stats.dormant++;
    }
    return { change: event('c', null, b, ts), kind: 'create', defect };
  };

  const cancel = (ts: number): Generated => {
    const l = booked[r.int(0, booked.length - 1)]!;
    const before = l.b;
    l.b = { ...before, status: 'CANCELLED', updated_at: ts, version: before.version + 1 };
    move(l, cancelled);
    return { change: event('u', before, l.b, ts), kind: 'cancel', defect: null };
  };

  const update = (ts: number): Generated => {
    const l = anyLive();
    const before = l.b;
    const b: Booking = { ...before, updated_at: ts, version: before.version + 1 };
    const x = r.float();
    if (before.status === 'CANCELLED' && x < 0.4) {
      b.status = 'BOOKED'; // the customer booked again
      move(l, booked);
    } else if (x < 0.6) {
      let n = ticketCount();
      if (n === before.ticket_count) n = n === 1 ? 2 : n - 1;
      b.ticket_count = n;
    } else if (x < 0.8) {
      const movie =
        (before.movie_id === null ? undefined : movieIndex.get(before.movie_id)) ?? r.pick(movieCdf);
      b.ticket_price = priceFor(movie);
    } else {
      // Moved to another showing, possibly another movie.
      const movie = r.pick(movieCdf);
      b.movie_id = movieIds[movie]!;
      b.ticket_price = priceFor(movie);
    }
    const defect = maybeDirty(b, ts);
    l.b = b;
    return { change: event('u', before, b, ts), kind: 'update', defect };
  };

  const del = (ts: number): Generated => {
    const l = anyLive();
    remove(l);
    return { change: event('d', l.b, null, ts), kind: 'delete', defect: null };
  };

  return {
    next(tsMs) {
      const ts = tsMs > lastTs ? tsMs : lastTs;
      lastTs = ts;
      let kind = CHANGE_KINDS[r.pick(kinds)]!;
      const live = booked.length + cancelled.length;
      if ((kind === 'cancel' && booked.length === 0) || live === 0) {
        if (kind !== 'create') stats.fallbacks++;
        kind = 'create';
      }
      const g =
        kind === 'create'
          ? create(ts)
          : kind === 'cancel'
            ? cancel(ts)
            : kind === 'update'
              ? update(ts)
              : del(ts);
      stats.byKind[g.kind]++;
      return g;
    },
    stats: () => ({ ...stats, byKind: { ...stats.byKind }, live: booked.length + cancelled.length }),
  };
}
