import { checkDuration, durationSetting, formatDuration, parseDuration } from '../../src';

describe('durations (one parser for every time option)', () => {
  it('reads a number and a unit: ms, s, m, h, d, with decimals', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(parseDuration('1d')).toBe(86_400_000);
    expect(parseDuration(' 2s ')).toBe(2000);
  });

  it('refuses bare numbers, signs, spaces inside and unknown units', () => {
    for (const bad of ['5', '-5s', '+5s', '5 s', '5w', '', 's', '1,5h', '1e3s'])
      expect(parseDuration(bad)).toBeNull();
  });

  it('checks bounds, and reads a bare number in the unit an option always took', () => {
    expect(checkDuration('2', { bareUnit: 's' })).toBe(2000);
    expect(checkDuration('2')).toMatch(/must be a duration such as 500ms, 30s, 5m, 1.5h or 1d/);
    expect(checkDuration('50ms', { minMs: 100 })).toBe('must be at least 100ms');
    expect(checkDuration('2d', { maxMs: 86_400_000 })).toBe('must be at most 1d');
  });

  it('formats for messages', () => {
    expect(formatDuration(90_000)).toBe('1m30s');
    expect(formatDuration(250)).toBe('250ms');
    expect(formatDuration(0)).toBe('0ms');
    expect(formatDuration(86_400_000 + 3_600_000)).toBe('1d1h');
  });

  it('is a zod setting for environment variables', () => {
    expect(durationSetting().parse('1.5h')).toBe(5_400_000);
    expect(durationSetting({ minMs: 1 }).safeParse('0s').success).toBe(false);
  });
});
