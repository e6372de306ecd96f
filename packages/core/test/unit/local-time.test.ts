import { seededRandom, testSeed } from '@cdc/testing';
import { assertTimeZone, createLocalTime } from '../../src';

const SEED = testSeed('core local time');

const formats = new Map<string, Intl.DateTimeFormat>();

/** The slow, obviously-right answer: Intl for every instant. */
function reference(timeZone: string, ms: number) {
  let format = formats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      weekday: 'short',
    });
    formats.set(timeZone, format);
  }
  const parts = format.formatToParts(ms);
  const get = (t: string) => parts.find((p) => p.type === t)!.value;
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  return {
    dateOnly: `${get('year')}-${get('month')}-${get('day')}`,
    hour: Number(get('hour')),
    dayOfWeek: days.indexOf(get('weekday')),
  };
}

describe('local time fields', () => {
  // Zones west and east of UTC, with and without DST, with 30- and 45-minute offsets and a
  // 30-minute DST shift (Lord Howe).
  const zones = [
    'UTC',
    'Europe/Berlin',
    'America/New_York',
    'America/Los_Angeles',
    'Asia/Kolkata',
    'Asia/Kathmandu',
    'Australia/Lord_Howe',
    'America/St_Johns',
    'Pacific/Chatham',
  ];

  it.each(zones)('matches Intl in %s at random instants and around every hour of DST months', (zone) => {
    const local = createLocalTime(zone);
    const random = seededRandom(SEED);
    const instants: number[] = [];
    const from = Date.UTC(2024, 0, 1);
    const to = Date.UTC(2027, 0, 1);
    for (let i = 0; i < 500; i++) instants.push(Math.floor(from + random.float() * (to - from)));
    // Every hour of the months with DST changes (north and south), and a millisecond either side.
    for (const month of [2, 3, 9, 10]) {
      const start = Date.UTC(2025, month, 1);
      for (let ms = start; ms < start + 31 * 86_400_000; ms += 3_600_000) instants.push(ms - 1, ms, ms + 1);
    }
    const mismatches = instants
      .map((ms) => ({ ms, got: local(ms), want: reference(zone, ms) }))
      .filter((r) => JSON.stringify(r.got) !== JSON.stringify(r.want));
    expect(mismatches.slice(0, 5)).toEqual([]);
  });

  it('handles instants before 1970', () => {
    const local = createLocalTime('Europe/Berlin');
    const ms = Date.UTC(1969, 11, 31, 23, 30);
    expect(local(ms)).toEqual(reference('Europe/Berlin', ms));
    expect(local(ms).dateOnly).toBe('1970-01-01');
  });

  it('rejects unknown zones', () => {
    expect(() => assertTimeZone('Not/AZone')).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }) as Error,
    );
    expect(() => assertTimeZone('Europe/Berlin')).not.toThrow();
  });
});
