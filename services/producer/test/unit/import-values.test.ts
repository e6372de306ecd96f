import { createTimestampParser, decimalToCents, parseWholeNumber } from '../../src/import';

describe('import: decimal prices to exact cents', () => {
  it.each([
    ['15.00', 1500],
    ['15', 1500],
    ['15.1', 1510],
    ['15.10', 1510],
    ['0.07', 7],
    ['.5', 50],
    ['15.', 1500],
    ['15.000', 1500],
    [' 12.34 ', 1234],
    ['-5.00', -500],
    ['+3.5', 350],
    ['0', 0],
    ['-0.00', 0],
    ['0.29', 29], // 0.29 * 100 is 28.999999999999996 in floating point
    ['1.005', null],
    ['9007199254740.99', 900719925474099],
  ])('%s → %s cents', (text, cents) => {
    const r = decimalToCents(text);
    if (cents === null) expect(r.ok).toBe(false);
    else expect(r).toEqual({ ok: true, cents });
  });

  it.each([
    ['15.005', 'more than two decimals'],
    ['1.001', 'more than two decimals'],
    ['abc', 'not a decimal number'],
    ['', 'not a decimal number'],
    ['.', 'not a decimal number'],
    ['1,50', 'not a decimal number'],
    ['1e3', 'not a decimal number'],
    ['12.34.5', 'not a decimal number'],
    ['99999999999999999.00', 'too large'],
  ])('%s is refused (%s), never rounded', (text, why) => {
    const r = decimalToCents(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain(why);
  });

  it('ticket counts are whole numbers (2.0 as exports write it), within an int', () => {
    expect(parseWholeNumber('2')).toEqual({ ok: true, value: 2 });
    expect(parseWholeNumber('2.00')).toEqual({ ok: true, value: 2 });
    expect(parseWholeNumber('-1')).toEqual({ ok: true, value: -1 });
    expect(parseWholeNumber('0')).toEqual({ ok: true, value: 0 });
    expect(parseWholeNumber('2.5').ok).toBe(false);
    expect(parseWholeNumber('two').ok).toBe(false);
    expect(parseWholeNumber('3000000000').ok).toBe(false);
  });
});

describe('import: timestamps', () => {
  const utc = createTimestampParser('UTC');
  const ny = createTimestampParser('America/New_York');
  const ms = (r: ReturnType<typeof utc>) => (r.ok ? r.ms : r.reason);

  it('reads ISO 8601 and the export format, in UTC by default', () => {
    const t = Date.UTC(2025, 8, 3, 10, 0, 0);
    expect(ms(utc('2025-09-03T10:00:00Z'))).toBe(t);
    expect(ms(utc('2025-09-03 10:00:00'))).toBe(t);
    expect(ms(utc('2025-09-03T10:00'))).toBe(t);
    expect(ms(utc('2025-09-03T12:00:00+02:00'))).toBe(t);
    expect(ms(utc('2025-09-03T05:30:00-0430'))).toBe(t);
    expect(ms(utc('2025-09-03 10:00:00.000 +0000'))).toBe(t);
    expect(ms(utc('2025-09-03 10:00:00.123456'))).toBe(t + 123);
    expect(ms(utc('2025-09-03'))).toBe(Date.UTC(2025, 8, 3));
  });

  it('reads a zone-less value in --time-zone; a value with a zone ignores it', () => {
    expect(ms(ny('2025-09-03 06:00:00'))).toBe(Date.UTC(2025, 8, 3, 10)); // EDT, UTC-4
    expect(ms(ny('2025-01-15 05:00:00'))).toBe(Date.UTC(2025, 0, 15, 10)); // EST, UTC-5
    expect(ms(ny('2025-09-03T10:00:00Z'))).toBe(Date.UTC(2025, 8, 3, 10));
  });

  it('refuses a wall-clock time skipped by daylight saving; takes the earlier of a repeated one', () => {
    expect(ms(ny('2025-03-09 02:30:00'))).toContain('does not exist in America/New_York');
    // 2025-11-02 01:30 happens twice in New York: first in EDT (05:30 UTC).
    expect(ms(ny('2025-11-02 01:30:00'))).toBe(Date.UTC(2025, 10, 2, 5, 30));
  });

  it.each([
    '2025-13-01 10:00:00',
    '2025-02-30',
    '2025-09-03 24:00:00',
    '2025-09-03 10:61:00',
    '03/09/2025',
    'yesterday',
    '2025-09-03T10:00:00+25:00',
  ])('refuses %s', (text) => expect(utc(text).ok).toBe(false));

  it('knows leap years', () => {
    expect(utc('2024-02-29').ok).toBe(true);
    expect(utc('2025-02-29').ok).toBe(false);
    expect(utc('2000-02-29').ok).toBe(true);
    expect(utc('1900-02-29').ok).toBe(false);
  });
});
