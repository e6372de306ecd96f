import { parseRetention } from '../../src/commands/topics';

describe('cdc topics create --retention', () => {
  it('takes unlimited or a duration', () => {
    expect(parseRetention('unlimited')).toBe(-1);
    expect(parseRetention('-1')).toBe(-1);
    expect(parseRetention('30d')).toBe(30 * 86_400_000);
    expect(parseRetention('12h')).toBe(12 * 3_600_000);
    expect(parseRetention('500ms')).toBe(500);
    expect(parseRetention('1.5h')).toBe(90 * 60_000);
    expect(parseRetention('1.5d')).toBe(36 * 3_600_000);
  });

  it('refuses anything else, naming the option', () => {
    for (const bad of ['', '0d', '7', 'forever', '1,5d', '-7d']) {
      expect(() => parseRetention(bad)).toThrow(/--retention must be/);
    }
  });
});
