import {
  createLogger,
  type Encoder,
  type MovieKpis,
  type Producer,
  type ProducerRecord,
  type RecordMetadata,
} from '@cdc/core';
import type { MovieKpiRow } from '@cdc/read-model';
import { GoldPublisher, type SnapshotLedger } from '../../src/gold';
import { createAggregatorMetrics } from '../../src/metrics';

/**
 * The publisher's own logic, without Kafka: one send at a time, rows handed over meanwhile
 * coalesced per movie (the newest snapshot), the published mark never ahead of what was sent, and
 * a failed send leaving everything to the backlog (read from the database). The sends themselves
 * are the integration tests' business (worked-example, crash).
 */
const row = (movie: string, version: number): MovieKpiRow =>
  ({ movie_key: movie, movie_id: movie, snapshot_version: version }) as MovieKpiRow;

function harness() {
  const sends: { movie: string; version: number }[][] = [];
  let release: (() => void) | null = null;
  let failNext = false;
  const producer = {
    send: async (r: ProducerRecord): Promise<RecordMetadata[]> => {
      sends.push(
        r.messages.map((m) => {
          const v = JSON.parse(String(m.value)) as MovieKpis;
          return { movie: String(m.key), version: v.snapshot_version };
        }),
      );
      await new Promise<void>((resolve) => (release = resolve));
      if (failNext) {
        failNext = false;
        throw new Error('broker said no');
      }
      return [];
    },
  } as unknown as Producer;
  const encoder: Encoder<MovieKpis> = { schemaId: 1, encode: (v) => Buffer.from(JSON.stringify(v)) };
  const marks: number[] = [];
  const dbRows: MovieKpiRow[] = [];
  const ledger: SnapshotLedger = {
    pendingSnapshots: () => dbRows.filter((r) => r.snapshot_version > (marks.at(-1) ?? 0)),
    markPublished: (v) => void marks.push(v),
  };
  const publisher = new GoldPublisher(
    producer,
    encoder,
    'gold',
    ledger,
    createAggregatorMetrics(),
    createLogger('test', 'silent'),
  );
  /** Lets the send in flight complete, then waits for the publisher to move on. */
  const ack = async (fail = false) => {
    failNext = fail;
    const r = release;
    release = null;
    r?.();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { publisher, sends, marks, dbRows, ack };
}

describe('the gold publisher', () => {
  it('sends one request at a time and coalesces what arrives meanwhile, newest per movie', async () => {
    const h = harness();
    const first = h.publisher.flush(); // the start: nothing pending in the database
    await first;
    const a = h.publisher.publish([row('M1', 1), row('M2', 2)]);
    expect(h.sends).toHaveLength(1);
    void h.publisher.publish([row('M1', 3)]);
    const c = h.publisher.publish([row('M3', 4), row('M1', 5)]);
    expect(h.sends).toHaveLength(1); // still in flight: the others wait
    await h.ack();
    expect(h.sends).toHaveLength(2);
    expect(h.sends[1]).toEqual([
      { movie: 'M3', version: 4 },
      { movie: 'M1', version: 5 },
    ]);
    await h.ack();
    await Promise.all([a, c]);
    expect(h.marks).toEqual([2, 5]);
    expect(h.publisher.hasBacklog).toBe(false);
  });

  it('leaves a failed send to the backlog, which republishes from the database', async () => {
    const h = harness();
    await h.publisher.flush();
    h.dbRows.push(row('M1', 1), row('M2', 2));
    const p = h.publisher.publish([row('M1', 1), row('M2', 2)]);
    await h.ack(true);
    await p;
    expect(h.publisher.hasBacklog).toBe(true);
    expect(h.marks).toEqual([]);
    // Rows handed over during the backlog are in the database too: one read sends them all.
    h.dbRows.push(row('M3', 3));
    const retry = h.publisher.publish([row('M3', 3)]);
    expect(h.sends.at(-1)).toEqual([
      { movie: 'M1', version: 1 },
      { movie: 'M2', version: 2 },
      { movie: 'M3', version: 3 },
    ]);
    await h.ack();
    await retry;
    expect(h.marks).toEqual([3]);
    expect(h.publisher.hasBacklog).toBe(false);
  });
});
