import { ReadModelWriter } from '../../src';

/**
 * The gold published mark is not a transaction of its own per gold send: `markPublished` moves it
 * in memory, and the next batch's transaction, `flushPublishedMark` or `close` stores it.
 */
const stored = (w: ReadModelWriter): string | undefined =>
  w.db.prepare("SELECT value FROM meta WHERE key = 'published_snapshot_version'").pluck().get() as
    string | undefined;

const emptyBatch = (w: ReadModelWriter, partition: number, nextOffset: number) =>
  w.commitBatch({
    topic: 't',
    parts: [{ partition, openedAtOffset: w.storedOffset('t', partition), nextOffset, firstOffset: -1 }],
    delta: { bookings: [], movies: new Map() },
    changes: 0,
    applied: 0,
    skipped: 0,
    rederived: 0,
    startedAt: 0,
    started: performance.now(),
  });

test('the published mark rides on the next batch, or is flushed', () => {
  const w = ReadModelWriter.open(':memory:');
  w.setSnapshotVersions(10, 4);
  w.markPublished(7);
  expect(w.snapshotVersions.published).toBe(7);
  expect(stored(w)).toBe('4');
  emptyBatch(w, 0, 5);
  expect(stored(w)).toBe('7');
  w.markPublished(9);
  w.markPublished(8); // never moves back
  expect(stored(w)).toBe('7');
  w.flushPublishedMark();
  expect(stored(w)).toBe('9');
  w.close();
});

test('a failed batch does not lose the mark it carried', () => {
  const w = ReadModelWriter.open(':memory:');
  w.setSnapshotVersions(10, 4);
  w.markPublished(6);
  expect(() =>
    w.commitBatch({
      topic: 't',
      parts: [{ partition: 0, openedAtOffset: 3, nextOffset: 5, firstOffset: -1 }], // stored is 0: fails
      delta: { bookings: [], movies: new Map() },
      changes: 0,
      applied: 0,
      skipped: 0,
      rederived: 0,
      startedAt: 0,
      started: performance.now(),
    }),
  ).toThrow(/moved/);
  expect(stored(w)).toBe('4');
  emptyBatch(w, 0, 5);
  expect(stored(w)).toBe('6');
  w.close();
});
