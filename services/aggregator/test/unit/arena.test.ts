import { ByteArena, EMPTY_CHUNK, type Slot } from '../../src';

const slot = (): Slot => ({ chunk: EMPTY_CHUNK, start: 0, end: 0 });
const bytes = (n: number, fill: number) => Buffer.alloc(n, fill);

describe('ByteArena', () => {
  test('a slot reads back what was put, also after it was overwritten and compacted', () => {
    const arena = new ByteArena(64, 0);
    const slots = Array.from({ length: 20 }, slot);
    slots.forEach((s, i) => arena.put(s, bytes(10 + i, i)));
    for (let round = 1; round <= 5; round++) {
      slots.forEach((s, i) => arena.put(s, bytes(5 + ((i * round) % 30), i + round)));
    }
    expect(arena.wasteful).toBe(true);
    const before = slots.map((s) => Buffer.from(ByteArena.view(s)));
    arena.compact(slots);
    expect(slots.map((s) => ByteArena.view(s))).toEqual(before);
    expect(arena.stats.heldBytes).toBe(arena.stats.liveBytes);
    expect(arena.wasteful).toBe(false);
  });

  test('a value larger than a chunk gets a chunk of its own', () => {
    const arena = new ByteArena(16, 0);
    const s = slot();
    arena.put(s, bytes(100, 7));
    expect(ByteArena.view(s)).toEqual(bytes(100, 7));
  });

  test('garbage is bounded: held bytes stay within twice the live bytes plus the slack', () => {
    const slack = 1024;
    const arena = new ByteArena(256, slack);
    const slots = Array.from({ length: 50 }, slot);
    for (let i = 0; i < 20_000; i++) {
      const s = slots[i % 50] as Slot;
      arena.put(s, bytes(20, i % 256));
      if (arena.wasteful) arena.compact(slots);
      expect(arena.stats.heldBytes).toBeLessThanOrEqual(2 * arena.stats.liveBytes + slack + 20);
    }
    expect(arena.stats.liveBytes).toBe(50 * 20);
    expect(arena.stats.compactions).toBeGreaterThan(10);
  });
});
