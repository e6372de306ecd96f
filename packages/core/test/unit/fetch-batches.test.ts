import {
  DecodeError,
  FetchGroupedConsumer,
  type Consumer,
  type Decoder,
  type FetchGroupBatch,
} from '../../src';

/**
 * The fetch-grouped consumer loop without a broker: a fake consumer emits kafkajs's events and
 * calls eachBatch as kafkajs does. The grouping itself (FetchBatches) is tested over the
 * aggregator's SQLite batches (services/aggregator/test/unit/fetch-batches.test.ts); here, what
 * the loop adds: seeks on a join, announced batches committing together, undecodable records as
 * null, a stale batch skipped, a failing registry abandoning the group, control records.
 */
type Handler = (e: { payload: Record<string, unknown> }) => void;
type EachBatch = (payload: unknown) => Promise<void>;

const EVENTS = {
  GROUP_JOIN: 'group-join',
  FETCH: 'fetch',
  FETCH_START: 'fetch-start',
  END_BATCH_PROCESS: 'end-batch-process',
} as const;

function fakeConsumer() {
  const handlers = new Map<string, Handler[]>();
  const seeks: { partition: number; offset: string }[] = [];
  let eachBatch: EachBatch | undefined;
  const consumer = {
    events: EVENTS,
    on: (event: string, fn: Handler) => handlers.set(event, [...(handlers.get(event) ?? []), fn]),
    seek: (s: { partition: number; offset: string }) =>
      seeks.push({ partition: s.partition, offset: s.offset }),
    run: async (config: { eachBatch: EachBatch }) => {
      eachBatch = config.eachBatch;
    },
  };
  const emit = (event: string, payload: Record<string, unknown>) => {
    for (const fn of handlers.get(event) ?? []) fn({ payload });
  };
  /** One partition's batch handed to eachBatch; returns the offsets resolved. */
  const hand = async (partition: number, values: string[], from = 0, stale = false) => {
    const resolved: string[] = [];
    const last = String(from + values.length - 1);
    await (eachBatch as EachBatch)({
      batch: {
        partition,
        highWatermark: String(from + values.length + 10),
        messages: values.map((v, i) => ({ offset: String(from + i), value: Buffer.from(v) })),
        lastOffset: () => last,
      },
      resolveOffset: (o: string) => resolved.push(o),
      heartbeat: async () => undefined,
      isRunning: () => true,
      isStale: () => stale,
    });
    return resolved;
  };
  return { consumer: consumer as unknown as Consumer, emit, hand, seeks };
}

/** Decodes 'ok:x' to 'x'; 'bad' is bad data; 'slow:x' needs the registry, which fails on 'down'. */
const decoder: Decoder<string> = {
  decodeKnown: (value) => {
    const s = String(value);
    if (s === 'bad') throw new DecodeError('WRONG_MAGIC_BYTE', 'bad');
    return s.startsWith('ok:') ? s.slice(3) : undefined;
  },
  decode: async (value) => {
    const s = String(value);
    if (s === 'down') throw new Error('registry unreachable');
    return s.slice(5);
  },
};

function setUp() {
  const k = fakeConsumer();
  const log: string[] = [];
  const commits: string[][] = [];
  const undecodable: [number, string, number][] = [];
  const control: [number, number][] = [];
  const failing = { next: false };
  let n = 0;
  const open = (): FetchGroupBatch<string | null, string[]> => {
    const id = ++n;
    const records: string[] = [];
    return {
      has: (p) => records.some((r) => r.startsWith(`${p}:`)),
      add: (p, offset, value) => records.push(`${p}:${offset}=${value ?? 'null'}`),
      end: (p, next) => records.push(`${p}:end@${next}`),
      commit: () => {
        if (failing.next) {
          failing.next = false;
          throw new Error('disk full');
        }
        log.push(`commit ${id}`);
        return records;
      },
      abandon: () => log.push(`abandon ${id}`),
    };
  };
  const loop = new FetchGroupedConsumer(k.consumer, {
    topic: 't',
    decoder,
    open,
    onCommitted: (result) => commits.push(result),
    positions: (partitions) => new Map(partitions.map((p) => [p, p * 100])),
    onUndecodable: (_err, partition, offset, nth) => undecodable.push([partition, offset, nth]),
    onControlRecords: (partition, next) => control.push([partition, next]),
    onCommitFailed: () => log.push('commit failed'),
  });
  return { ...k, loop, log, commits, undecodable, control, failing };
}

test('a join seeks every assigned partition to its stored offset', async () => {
  const t = setUp();
  await t.loop.run();
  t.emit(EVENTS.GROUP_JOIN, { memberAssignment: { t: [0, 2], other: [1] } });
  expect(t.seeks).toEqual([
    { partition: 0, offset: '0' },
    { partition: 2, offset: '200' },
  ]);
});

test("a fetch's batches commit together once the last is in; only then are offsets resolved", async () => {
  const t = setUp();
  await t.loop.run();
  t.emit(EVENTS.FETCH, { numberOfBatches: 2 });
  const first = await t.hand(0, ['ok:a', 'bad', 'slow:b', 'bad']);
  expect([first, t.commits]).toEqual([[], []]);
  const second = await t.hand(1, ['ok:c']);
  expect(t.commits).toEqual([['0:0=a', '0:1=null', '0:2=b', '0:3=null', '0:end@4', '1:0=c', '1:end@1']]);
  expect([first, second]).toEqual([['3'], ['0']]);
  expect(t.undecodable).toEqual([
    [0, '1', 0],
    [0, '3', 1],
  ]);
});

test('a stale batch abandons the group; an unreachable registry abandons it and throws', async () => {
  const t = setUp();
  await t.loop.run();
  t.emit(EVENTS.FETCH, { numberOfBatches: 3 });
  await t.hand(0, ['ok:a']);
  await t.hand(1, ['ok:b'], 0, true);
  expect(t.log).toEqual(['abandon 1']);
  await expect(t.hand(2, ['ok:c', 'down'])).rejects.toThrow('registry unreachable');
  expect(t.log).toEqual(['abandon 1', 'abandon 2']);
  expect(t.commits).toEqual([]);
});

test('a new fetch commits what is left; a failed commit is reported; control records move offsets', async () => {
  const t = setUp();
  await t.loop.run();
  t.emit(EVENTS.FETCH, { numberOfBatches: 2 });
  expect(await t.hand(0, ['ok:a'])).toEqual([]);
  t.emit(EVENTS.FETCH_START, {});
  expect(t.commits).toEqual([['0:0=a', '0:end@1']]);
  t.emit(EVENTS.FETCH, { numberOfBatches: 2 });
  expect(await t.hand(0, ['ok:b'], 1)).toEqual([]);
  t.failing.next = true;
  t.emit(EVENTS.FETCH_START, {});
  expect(t.log).toEqual(['commit 1', 'abandon 2', 'commit failed']);
  expect(t.commits).toHaveLength(1);
  t.emit(EVENTS.END_BATCH_PROCESS, { batchSize: 0, topic: 't', partition: 1, lastOffset: '41' });
  t.emit(EVENTS.END_BATCH_PROCESS, { batchSize: 0, topic: 'other', partition: 1, lastOffset: '9' });
  t.emit(EVENTS.END_BATCH_PROCESS, { batchSize: 3, topic: 't', partition: 1, lastOffset: '50' });
  expect(t.control).toEqual([[1, 42]]);
});
