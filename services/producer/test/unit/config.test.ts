import { UsageError } from '@cdc/core';
import { DEFAULT_MIX } from '@cdc/bookings';
import { parseMix, parseProduceArgs, type ProduceArgs } from '../../src';

const NOW = Date.UTC(2025, 8, 10, 12);
const parse = (args: ProduceArgs) => parseProduceArgs(args, NOW);

function usageError(args: ProduceArgs): string {
  try {
    parse(args);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error(`expected a usage error for ${JSON.stringify(args)}`);
}

describe('produce options', () => {
  it('defaults: a gentle continuous run with ops endpoints, or a fast bounded one', () => {
    const c = parse({});
    expect(c).toMatchObject({ ratePerSec: 50, count: null, durationMs: null, opsPort: 9470 });
    if (c.source.kind !== 'generator') throw new Error('expected the generator');
    expect(c.source.generator.mix).toEqual(DEFAULT_MIX);
    expect(c.source.generator.bookingDateFromMs).toBe(NOW - 7 * 86_400_000);
    expect(c.source.generator.bookingDateToMs).toBeNull();
    expect(parse({ count: '1000' })).toMatchObject({ ratePerSec: null, count: 1000, opsPort: null });
    expect(parse({ count: '1000', rate: '200', opsPort: '0' })).toMatchObject({
      ratePerSec: 200,
      opsPort: 0,
    });
    expect(parse({ duration: '1.5m', rate: 'max' })).toMatchObject({ durationMs: 90_000, ratePerSec: null });
  });

  it('one producer for a paced run up to 25,000 events/s, two otherwise, unless told', () => {
    expect(parse({}).producers).toBe(1);
    expect(parse({ rate: '25000' }).producers).toBe(1);
    expect(parse({ rate: '25001' }).producers).toBe(2);
    expect(parse({ count: '1000' }).producers).toBe(2);
    expect(parse({ rate: 'max' }).producers).toBe(2);
    expect(parse({ rate: '1000', producers: '3' }).producers).toBe(3);
  });

  it('reads every generator option', () => {
    const c = parse({
      seed: '7',
      movies: '20',
      customers: '300',
      mix: 'create=70, cancel=10,update=10,delete=10',
      dirtyRatio: '0.25',
      timeZone: 'Europe/Berlin',
      bookingFrom: '2025-09-01',
      bookingTo: '2025-09-05T18:00Z',
    });
    if (c.source.kind !== 'generator') throw new Error('expected the generator');
    expect(c.source.generator).toMatchObject({
      seed: 7,
      movies: 20,
      customers: 300,
      mix: { create: 70, cancel: 10, update: 10, delete: 10 },
      dirtyRatio: 0.25,
      timeZone: 'Europe/Berlin',
      bookingDateFromMs: Date.UTC(2025, 8, 1),
      bookingDateToMs: Date.UTC(2025, 8, 5, 18),
    });
  });

  it('names the option in every error', () => {
    expect(usageError({ rate: '-5' })).toMatch(/^--rate must be a positive number/);
    expect(usageError({ rate: 'fast' })).toMatch(/^--rate .*got 'fast'/);
    expect(usageError({ count: '0' })).toMatch(/^--count must be at least 1/);
    expect(usageError({ count: '1e3' })).toMatch(/^--count must be a whole number/);
    expect(usageError({ duration: '10' })).toMatch(/^--duration must be a duration such as 500ms/);
    expect(usageError({ seed: '-1' })).toMatch(/^--seed/);
    expect(usageError({ movies: '0' })).toMatch(/^--movies/);
    expect(usageError({ dirtyRatio: '1.5' })).toMatch(/^--dirty-ratio must be a number from 0 to 1/);
    expect(usageError({ timeZone: 'Mars/Olympus' })).toMatch(/^--time-zone must be an IANA time zone/);
    expect(usageError({ bookingFrom: 'yesterday' })).toMatch(/^--booking-from must be an ISO date/);
    expect(usageError({ opsPort: '70000' })).toMatch(/^--ops-port must be at most 65535/);
    expect(usageError({ producers: '0' })).toMatch(/^--producers/);
  });

  it('rejects contradictions', () => {
    expect(usageError({ count: '5', duration: '3s' })).toMatch(/--count and --duration cannot be combined/);
    expect(usageError({ scenario: 'seed', movies: '3' })).toMatch(
      /^--movies cannot be combined with --scenario/,
    );
    expect(usageError({ scenario: 'seed', count: '3' })).toMatch(
      /^--count cannot be combined with --scenario/,
    );
    expect(usageError({ bookingDays: '3', bookingFrom: '2025-09-01' })).toMatch(
      /--booking-days cannot be combined/,
    );
    expect(usageError({ bookingFrom: '2025-09-05', bookingTo: '2025-09-01' })).toMatch(
      /^--booking-to must be after/,
    );
    expect(usageError({ bookingFrom: '2026-01-01' })).toMatch(/^--booking-from is in the future/);
    expect(usageError({ scenario: 'nope' })).toMatch(/^--scenario: unknown scenario 'nope'/);
  });

  it('loads a scenario, which may be paced', () => {
    const c = parse({ scenario: 'seed', rate: '2' });
    expect(c.source.kind).toBe('scenario');
    expect(c).toMatchObject({ ratePerSec: 2, count: null, opsPort: null });
  });

  it('parses op mixes in percent that sum to 100', () => {
    expect(parseMix('create=100')).toEqual({ create: 100, cancel: 0, update: 0, delete: 0 });
    expect(parseMix('create=50,cancel=10')).toMatch(/sum to 100, they sum to 60/);
    expect(parseMix('create=50,refund=50')).toMatch(/unknown operation 'refund'/);
    expect(parseMix('create=50,create=50')).toMatch(/given twice/);
    expect(parseMix('cancel=50,update=50')).toMatch(/create must be above 0/);
    expect(parseMix('create')).toMatch(/must look like/);
  });
});
