import {
  DecodeError,
  filterDeadLetters,
  parsePosition,
  positionOf,
  REPLAY_OF_HEADER,
  toDeadLetterEntry,
  type KafkaMessage,
} from '@cdc/core';
import { deadLetter, planReplay, replayMessage, replaysSince, REPLAY_CLOCK_SKEW_MS } from '../../src';

/** A dead letter as the enricher writes it, read back from partition `p` at `offset`. */
const letter = (
  p: number,
  offset: string,
  o: { code?: string; at?: number; headers?: Record<string, string>; max?: number } = {},
) => {
  const original: KafkaMessage = {
    key: Buffer.from(`K${offset}`),
    value: Buffer.from('original bytes'),
    headers: { trace: 'abc', ...(o.headers ?? {}) },
    offset: '7',
    timestamp: '1000',
    attributes: 0,
  };
  const err = new DecodeError(
    o.code === 'WRONG_MAGIC_BYTE' ? 'WRONG_MAGIC_BYTE' : 'UNKNOWN_SCHEMA_ID',
    'why',
  );
  const m = deadLetter(original, { topic: 'bronze', partition: 2 }, err, o.max);
  return toDeadLetterEntry(p, {
    ...original,
    ...m,
    key: m.key as Buffer,
    value: m.value as Buffer,
    headers: m.headers ?? {},
    offset,
    timestamp: String(o.at ?? 5000),
  });
};

describe('dlq: reading dead letters back', () => {
  it('reads the enricher’s headers: code, message, source, size, and a link to the dead letter a replay repeats', () => {
    const e = letter(1, '42');
    expect(e).toMatchObject({
      partition: 1,
      offset: '42',
      key: 'K42',
      size: 14,
      truncated: false,
      errorCode: 'UNKNOWN_SCHEMA_ID',
      errorMessage: 'why',
      source: { topic: 'bronze', partition: 2, offset: '7' },
      replayOf: null,
    });
    expect(positionOf(e)).toBe('1/42');
    expect(letter(0, '1', { headers: { [REPLAY_OF_HEADER]: '1/42' } }).replayOf).toBe('1/42');
    expect(letter(0, '2', { max: 4 })).toMatchObject({ size: 14, truncated: true });
  });

  it('filters by code, time and position', () => {
    const all = [
      letter(0, '1', { at: 100 }),
      letter(0, '2', { at: 200, code: 'WRONG_MAGIC_BYTE' }),
      letter(1, '1', { at: 300 }),
    ];
    expect(filterDeadLetters(all, { codes: ['wrong_magic_byte'] }).map(positionOf)).toEqual(['0/2']);
    expect(filterDeadLetters(all, { sinceMs: 200, untilMs: 300 }).map(positionOf)).toEqual(['0/2']);
    expect(filterDeadLetters(all, { positions: ['1/1'] }).map(positionOf)).toEqual(['1/1']);
    expect(filterDeadLetters(all, {})).toHaveLength(3);
  });

  it('names a dead letter <partition>/<offset> or <offset> on partition 0', () => {
    expect(parsePosition('3/42')).toBe('3/42');
    expect(parsePosition('42')).toBe('0/42');
    expect(() => parsePosition('x/1')).toThrow(/partition/);
  });
});

describe('dlq: the replay plan', () => {
  it('replays originals not yet replayed; skips replayed ones (unless forced), failed replays and cut values', () => {
    const fresh = letter(0, '1');
    const done = letter(0, '2');
    const repeat = letter(0, '3', { headers: { [REPLAY_OF_HEADER]: '0/2' } });
    const cut = letter(0, '4', { max: 4 });
    const plan = planReplay([fresh, done, repeat, cut], new Set(['0/2']), { force: false });
    expect(plan.replay.map(positionOf)).toEqual(['0/1']);
    expect(plan.alreadyReplayed.map(positionOf)).toEqual(['0/2']);
    expect(plan.repeats.map(positionOf)).toEqual(['0/3']);
    expect(plan.truncated.map(positionOf)).toEqual(['0/4']);
    expect(planReplay([fresh, done], new Set(['0/2']), { force: true }).replay.map(positionOf)).toEqual([
      '0/1',
      '0/2',
    ]);
  });

  it('looks for replays in bronze only from the oldest candidate’s time (less a clock margin), and not at all without candidates', () => {
    const at = Date.UTC(2026, 0, 1);
    expect(replaysSince([letter(0, '1', { at: at + 5000 }), letter(1, '4', { at })])).toBe(
      at - REPLAY_CLOCK_SKEW_MS,
    );
    expect(replaysSince([letter(0, '1', { at: 1000 })])).toBe(0); // never before the epoch
    expect(replaysSince([])).toBeNull();
  });

  it('a replayed record is the original key, bytes and headers, without the dead-letter headers, linked to its dead letter', () => {
    const m = replayMessage(letter(2, '9'));
    expect(m.key).toBe('K9');
    expect(m.value?.toString()).toBe('original bytes');
    expect(m.headers).toEqual({ trace: 'abc', [REPLAY_OF_HEADER]: '2/9' });
  });
});
