import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  allTopics,
  createEncoder,
  createRegistryClient,
  describeTopicConfigs,
  loadSchema,
  topicNames,
  valueSubject,
  type EnrichedBookingChange,
} from '@cdc/core';
import {
  bookingChanges,
  bookingIdOf,
  createTestContext,
  endOffsets,
  enrich,
  produceAll,
  runCdc,
  testSeed,
  type TestContext,
} from '@cdc/testing';

/**
 * History is kept: `cdc topics create` gives bronze and silver unlimited retention and reports,
 * without changing them, existing ones that delete records; a rebuild over a silver topic whose
 * head was deleted refuses unless --allow-partial.
 */
describe('topics keep their history', () => {
  let ctx: TestContext;
  /** `cdc <args>` to its end on this test's broker and registry, under `topicPrefix` (default the test's). */
  const cdc = (args: string[], topicPrefix = ctx.connection.topicPrefix) =>
    runCdc(args, { connection: ctx.connection, env: { TOPIC_PREFIX: topicPrefix } });
  const extraTopics: string[] = [];
  let dir: string;

  beforeEach(async () => {
    ctx = await createTestContext({ name: 'history' });
    dir = mkdtempSync(path.join(os.tmpdir(), 'cdc-history-'));
  });
  afterEach(async () => {
    await ctx.admin.deleteTopics({ topics: extraTopics.splice(0), timeout: 10_000 }).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    await ctx.cleanup();
  });

  const retention = async (topics: string[]): Promise<Record<string, string | undefined>> => {
    const configs = await describeTopicConfigs(ctx.admin, topics, ['retention.ms']);
    return Object.fromEntries(configs.map((c) => [c.topic, c.values['retention.ms']]));
  };

  it('cdc topics create gives bronze and silver retention.ms=-1 and reports existing topics that lose history', async () => {
    const fresh = topicNames(`${ctx.connection.topicPrefix}fresh.`);
    extraTopics.push(...allTopics(fresh));
    const created = await cdc(['topics', 'create'], `${ctx.connection.topicPrefix}fresh.`);
    expect(created.code).toBe(0);
    expect(await retention([fresh.bronze, fresh.silver])).toEqual({
      [fresh.bronze]: '-1',
      [fresh.silver]: '-1',
    });
    expect(created.stderr).not.toContain('warning');

    // An existing bronze that deletes after 7 days is reported, not changed; --retention warns.
    const old = topicNames(`${ctx.connection.topicPrefix}old.`);
    extraTopics.push(...allTopics(old));
    await ctx.admin.createTopics({
      waitForLeaders: true,
      topics: [
        {
          topic: old.bronze,
          numPartitions: 3,
          configEntries: [{ name: 'retention.ms', value: '604800000' }],
        },
      ],
    });
    const again = await cdc(['topics', 'create', '--retention', '30d'], `${ctx.connection.topicPrefix}old.`);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain(`${old.bronze} keeps only 7 days (retention.ms=604800000)`);
    expect(again.stderr).toContain('bronze and silver created with retention 30 days');
    expect(await retention([old.bronze, old.silver])).toEqual({
      [old.bronze]: '604800000',
      [old.silver]: String(30 * 86_400_000),
    });
  });

  it('a rebuild over a silver topic whose head was deleted refuses without --allow-partial', async () => {
    const registry = createRegistryClient(ctx.connection.registryUrl);
    const { text, type } = loadSchema('EnrichedBookingChange');
    const silver = await createEncoder<EnrichedBookingChange>(
      registry,
      valueSubject(ctx.topics.silver),
      text,
      type,
    );
    const changes = bookingChanges(300, { seed: testSeed('rebuild over a cut silver'), idPrefix: 'h' });
    await produceAll(
      ctx.kafka,
      ctx.topics.silver,
      changes.map((c) => ({ key: bookingIdOf(c), value: silver.encode(enrich(c)) })),
    );
    const ends = await endOffsets(ctx, ctx.topics.silver);
    await ctx.admin.deleteTopicRecords({
      topic: ctx.topics.silver,
      partitions: [...ends].map(([partition, end]) => ({ partition, offset: String(Math.min(10, end)) })),
    });
    const gone = [...ends.values()].reduce((sum, end) => sum + Math.min(10, end), 0);
    const db = path.join(dir, 'aggregator.db');

    const refused = await cdc(['aggregate', '--rebuild', '--db', db]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`no longer holds its first ${gone} offsets`);
    expect(refused.stderr).toMatch(/the oldest record still there is from \d{4}-\d\d-\d\dT/);
    expect(refused.stderr).toContain('--allow-partial');

    const partial = await cdc(['aggregate', '--rebuild', '--db', db, '--allow-partial']);
    expect(partial.code).toBe(0);
    expect(partial.stdout).toContain(`partial rebuild: the first ${gone} offsets`);
    expect(partial.stdout).toContain(`${300 - gone} changes`);
  });
});
