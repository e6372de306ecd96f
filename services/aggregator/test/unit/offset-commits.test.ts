import { OffsetCommits } from '../../src/offset-commits';

/**
 * The background committer of the aggregator's monitoring offsets, without Kafka: one request
 * at a time, offsets noted meanwhile sent next (newest per partition), the interval honoured unless
 * forced, a failure reported and not rethrown.
 */
function harness(intervalMs = 1000) {
  const sent: Record<number, number>[] = [];
  const errors: unknown[] = [];
  const releases: (() => void)[] = [];
  let failNext = false;
  let clock = 0;
  const commits = new OffsetCommits({
    intervalMs,
    now: () => clock,
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
    advance: (ms: number) => (clock += ms),
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
    h.advance(1000);
    const due = h.commits.commit(false);
    expect(h.sent).toEqual([{ 0: 10 }, { 0: 11 }]);
    await h.releaseOne();
    await due;
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
