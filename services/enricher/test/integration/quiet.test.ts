import { createTestContext, startCdc, testSeed, type TestContext } from '@cdc/testing';
import { spawnEnricher, waitForGroupCaughtUp } from '../helpers/kafka';

/**
 * A healthy pipeline is quiet. The enricher (`cdc enrich`, a process) under a paced producer
 * (`cdc produce --rate 1000` for 20 s, a process too) logs no warning or error line, from its
 * start to the end of the input. Before the transaction cadence was fixed it logged about seven
 * kafkajs warnings a second: each transaction begun right after a commit met CONCURRENT_TRANSACTIONS
 * (the coordinator still writing the previous one's markers) and was retried ~100 ms later.
 */
interface LogLine {
  level: number;
  msg?: string;
}

function warningLines(stderr: string): LogLine[] {
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine)
    .filter((e) => e.level >= 40);
}

describe('a healthy enricher', () => {
  let ctx: TestContext;

  beforeAll(async () => {
    ctx = await createTestContext({ name: 'quiet' });
  });
  afterAll(() => ctx.cleanup());

  it('logs no warnings over a 20 s run at 1,000 events/s', async () => {
    const seed = testSeed('quiet enricher');
    // info level: its start line tells when it runs; only warning lines fail the test.
    const enricher = spawnEnricher(ctx, { LOG_LEVEL: 'info' });
    await enricher.waitForOutput('enricher running', { stream: 'stderr', timeoutMs: 60_000 });

    const producer = ctx.track(
      startCdc(
        [
          'produce',
          '--rate',
          '1000',
          '--duration',
          '20s',
          '--seed',
          String(seed),
          '--no-progress',
          '--ops-port',
          '0',
        ],
        { connection: ctx.connection },
      ),
    );
    await producer.expectExit(0, { timeoutMs: 90_000 });
    await waitForGroupCaughtUp(ctx, `${ctx.connection.topicPrefix}cdc-enricher`, ctx.topics.bronze, 60_000);
    expect(enricher.running()).toBe(true);

    const produced = (await ctx.admin.fetchTopicOffsets(ctx.topics.bronze)).reduce(
      (sum, p) => sum + Number(p.high),
      0,
    );
    expect(produced).toBeGreaterThanOrEqual(19_000);
    expect(warningLines(enricher.stderr()).map((e) => e.msg)).toEqual([]);
    expect(warningLines(producer.stderr()).map((e) => e.msg)).toEqual([]);
  });
});
