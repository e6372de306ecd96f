import { OffsetCommits } from '../../src';

/**
 * The background offset committer (the aggregator's and the alerts gold reader's), without Kafka: one request
 * at a time, offsets noted meanwhile sent next (newest per partition), the interval honoured unless
 * forced, a failure reported and not rethrown.
 */
function harness(intervalMs = 1000) {
  const sent: Record<number, number>[] = [];
  const errors: unknown[] = [];
  const releases: (() => void)[] = [];
  let failNext = false;
  let clock = 0;
  const timers: { fn: () => void; at: number }[] = [];
  const commits = new OffsetCommits({
    intervalMs,
    now: () => clock,
    setTimer: (fn, ms) => {
      const t = { fn, at: clock + ms };
      timers.push(t);
      return () => timers.splice(timers.indexOf(t), 1);
    },
    send: async (offsets) => {
      sent.push(Object.fromEntries(offsets));
      await new Promise<void>((resolve) => releases.push(resolve));
      if (failNext) {
        failNext = false;
        throw new Error('coordinator moved');
      }
    },
    onError: (err) => errors.push(err),
  });
  const releaseOne = async (): Promise<void> => {
    releases.shift()?.();
    await new Promise((r) => setImmediate(r));
  };
  return {
    commits,
    sent,
    errors,
    releaseOne,
    failNext: () => (failNext = true),
    timers,
    /** Moves the clock on and fires the timers now due. */
    advance: (ms: number) => {
      clock += ms;
      for (const t of timers.filter((x) => x.at <= clock)) {
        timers.splice(timers.indexOf(t), 1);
        t.fn();
      }
    },
  };
}

describe('OffsetCommits', () => {
  it('sends at once when forced, and not again before the interval unless forced', async () => {
    const h = harness();
    h.commits.note(0, 10);
    const first = h.commits.commit(true);
    expect(h.sent).toEqual([{ 0: 10 }]);
    await h.releaseOne();
    await first;
    h.commits.note(0, 11);
    await h.commits.commit(false);
    expect(h.sent).toHaveLength(1); // not due
    h.advance(500);
    h.commits.note(0, 12);
    const due = h.commits.commit(false);
    expect(h.sent).toHaveLength(1); // still not due: one trailing commit waits
    expect(h.timers).toHaveLength(1);
    h.advance(500);
    expect(h.sent).toEqual([{ 0: 10 }, { 0: 12 }]);
    await h.releaseOne();
    await due;
  });

  it('commits the last offsets before a quiet spell once the interval has passed (trailing)', async () => {
    const h = harness();
    h.commits.note(1, 4);
    const first = h.commits.commit(false); // never committed before: due at once
    await h.releaseOne();
    await first;
    h.commits.note(1, 8); // the last batch before traffic stops
    await h.commits.commit(false);
    expect(h.sent).toEqual([{ 1: 4 }]);
    h.advance(999);
    expect(h.sent).toHaveLength(1);
    h.advance(1);
    expect(h.sent).toEqual([{ 1: 4 }, { 1: 8 }]);
    await h.releaseOne();
    expect(h.timers).toHaveLength(0);
  });

  it('a forced commit takes the trailing one with it; stopTrailing cancels it', async () => {
    const h = harness();
    h.commits.note(0, 1);
    await Promise.all([h.commits.commit(true), h.releaseOne()]);
    h.commits.note(0, 2);
    void h.commits.commit(false);
    expect(h.timers).toHaveLength(1);
    const forced = h.commits.commit(true);
    expect(h.timers).toHaveLength(0);
    await h.releaseOne();
    await forced;
    h.commits.note(0, 3);
    void h.commits.commit(false);
    h.commits.stopTrailing();
    h.advance(5000);
    expect(h.sent).toEqual([{ 0: 1 }, { 0: 2 }]);
  });

  it('never has two requests in flight: what is noted meanwhile goes in the next one, newest per partition', async () => {
    const h = harness(0);
    h.commits.note(0, 5);
    const first = h.commits.commit(true);
    h.commits.note(1, 7);
    h.commits.note(1, 9);
    h.commits.note(2, 3);
    const joined = h.commits.commit(true);
    expect(joined).toBe(first);
    expect(h.sent).toEqual([{ 0: 5 }]);
    await h.releaseOne();
    expect(h.sent).toEqual([{ 0: 5 }, { 1: 9, 2: 3 }]);
    await h.releaseOne();
    await first;
    await h.commits.commit(true); // nothing pending: nothing sent
    expect(h.sent).toHaveLength(2);
  });

  it('sends a failed commit again with the trailing commit when nothing newer comes', async () => {
    const h = harness();
    h.failNext();
    h.commits.note(0, 7);
    h.commits.note(1, 9);
    const failed = h.commits.commit(true);
    await h.releaseOne();
    await failed;
    expect(h.errors).toHaveLength(1);
    expect(h.timers).toHaveLength(1);
    h.advance(1000);
    expect(h.sent).toEqual([
      { 0: 7, 1: 9 },
      { 0: 7, 1: 9 },
    ]);
    await h.releaseOne();
    expect(h.timers).toHaveLength(0);
  });

  it('reports a failed commit and goes on with newer offsets', async () => {
    const h = harness(0);
    h.failNext();
    h.commits.note(0, 1);
    const failed = h.commits.commit(true);
    await h.releaseOne();
    await expect(failed).resolves.toBeUndefined();
    expect(h.errors).toHaveLength(1);
    h.commits.note(0, 2);
    const next = h.commits.commit(true);
    await h.releaseOne();
    await next;
    expect(h.sent).toEqual([{ 0: 1 }, { 0: 2 }]);
  });
});
