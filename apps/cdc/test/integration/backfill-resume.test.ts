import { createRegistryClient, sleep, type BookingChange, type EnrichedBookingChange } from '@cdc/core';
import {
  bookingChanges,
  bronzeEncoder,
  bronzeMessage,
  createTestContext,
  produceAll,
  readSilver,
  runCdc,
  seededRandom,
  startCdc,
  testControlClient,
  testSeed,
  type TestContext,
} from '@cdc/testing';

/**
 * A backfill SIGKILLed several times (and interrupted once with SIGINT) and resumed each time by
 * the same command ends with silver equal to an uninterrupted backfill of the same bronze: every
 * event re-derived exactly once, with the same derived fields.
 */
const TOTAL = 60_000;
/** Small fetches and transactions, so a kill (or SIGINT) lands in a run that is under way. */
const SMALL = {
  ENRICHER_CHUNK_RECORDS: '250',
  ENRICHER_TRANSACTION_MAX_RECORDS: '1000',
  ENRICHER_FETCH_MAX_BYTES_PER_PARTITION: '16384',
  ENRICHER_FETCH_MAX_BYTES: '65536',
  LOG_LEVEL: 'error',
};
const ARGS = ['backfill', '--time-zone', 'Asia/Tokyo', '--from-beginning', '--execute'];

describe('cdc backfill, killed and resumed', () => {
  const contexts: TestContext[] = [];
  afterEach(async () => {
    for (const ctx of contexts.splice(0)) await ctx.cleanup();
  });

  /** A context whose bronze holds `changes` (the same in both contexts of the test). */
  const withBronze = async (name: string, changes: readonly BookingChange[]): Promise<TestContext> => {
    const ctx = await createTestContext({ name, partitions: 3 });
    contexts.push(ctx);
    const encoder = await bronzeEncoder(createRegistryClient(ctx.connection.registryUrl), ctx.topics.bronze);
    await produceAll(
      ctx.kafka,
      ctx.topics.bronze,
      changes.map((c) => bronzeMessage(encoder, c)),
      { perSend: 5000 },
    );
    return ctx;
  };

  const committed = async (ctx: TestContext): Promise<number> => {
    const [t] = await ctx.admin.fetchOffsets({
      groupId: `${ctx.connection.topicPrefix}cdc-backfill.e1`,
      topics: [ctx.topics.bronze],
    });
    return (t?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
  };

  /** event_id → the record without its enrichment time; fails on a duplicate. */
  const byEvent = (records: EnrichedBookingChange[]): Map<string, string> => {
    const out = new Map<string, string>();
    for (const r of records) {
      expect(out.has(r.event_id)).toBe(false);
      out.set(r.event_id, JSON.stringify({ ...r, enriched_at: 0 }));
    }
    return out;
  };

  it('ends equal to an uninterrupted backfill', async () => {
    const seed = testSeed('backfill killed and resumed');
    const changes = bookingChanges(TOTAL, { seed, idPrefix: 'r', liveBookings: 6000 });
    const random = seededRandom(seed + 1); // the kill moments

    const killed = await withBronze('bf-killed', changes);
    const options = { connection: killed.connection, env: SMALL };
    for (let kill = 1; kill <= 4; kill++) {
      const p = killed.track(startCdc(ARGS, options));
      const before = await committed(killed);
      // Fails at once if the run ends first: it must still be under way.
      await p.waitFor(async () => (await committed(killed)) > before, {
        timeoutMs: 60_000,
        intervalMs: 50,
        what: `progress of run ${kill}`,
      });
      expect(p.running()).toBe(true); // still under way
      await sleep(random.int(0, 299));
      if (kill < 4) {
        expect(await p.stop('SIGKILL')).toBeNull();
      } else {
        // Interrupted: it lets the running transaction finish and says how to resume.
        expect(await p.stop('SIGINT')).toBe(130);
        expect(p.stderr()).toContain('run the same command again to resume it');
      }
    }
    const done = await committed(killed);
    expect(done).toBeGreaterThan(0);
    expect(done).toBeLessThan(TOTAL);
    const last = await runCdc(ARGS, options);
    expect(last.stderr).toBe('');
    expect(last.code).toBe(0);
    expect(last.stdout).toContain(
      `backfill epoch 1 finished: ${TOTAL.toLocaleString('en-US')} bronze records`,
    );
    expect((await testControlClient(killed).read()).backfills.get(1)).toMatchObject({
      status: 'FINISHED',
      records: TOTAL,
    });

    const clean = await withBronze('bf-clean', changes);
    const once = await runCdc(ARGS, { connection: clean.connection, env: SMALL });
    expect(once.code).toBe(0);

    const resumed = byEvent(await readSilver(killed));
    const uninterrupted = byEvent(await readSilver(clean));
    expect(resumed.size).toBe(TOTAL);
    expect(uninterrupted.size).toBe(TOTAL);
    const differing = [...uninterrupted].filter(([id, r]) => resumed.get(id) !== r).map(([id]) => id);
    expect(differing.slice(0, 10)).toEqual([]);
    const sample = JSON.parse(resumed.values().next().value!) as EnrichedBookingChange;
    expect(sample).toMatchObject({ derivation_epoch: 1, time_zone: 'Asia/Tokyo' });
  });
});
