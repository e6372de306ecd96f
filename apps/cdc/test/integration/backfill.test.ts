import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createDecoder, createRegistryClient, loadSchema, waitFor, type MovieKpis } from '@cdc/core';
import {
  bookingChanges,
  bookingIdOf,
  bronzeEncoder,
  bronzeMessage,
  createTestContext,
  endOffsets,
  produceAll,
  readSilver,
  readToEnd,
  runCdc,
  startCdc,
  testControlClient as controlClient,
  testSeed,
  type TestContext,
} from '@cdc/testing';
import { dbTables, waitAggregated, withDb, type DbTables } from '../support/aggregator-db';

/**
 * `cdc backfill` as users run it, against the real broker and registry: the seed scenario
 * enriched in UTC by a running `cdc enrich` and aggregated by a running `cdc aggregate`,
 * re-derived in New York time. The dry run changes nothing; --execute writes exactly one
 * re-derived record per bronze record, the aggregator's rows and KPIs follow without counting an
 * event twice, the live enricher derives what comes afterwards with the new settings, and
 * `cdc aggregate --rebuild` gives the same tables.
 */
const FAST = { ENRICHER_SESSION_TIMEOUT_MS: '6000', ENRICHER_HEARTBEAT_INTERVAL_MS: '1000' };

describe('cdc backfill', () => {
  let ctx: TestContext;
  /** `cdc <args>` on this test's topics, run to its end: exit code and output. */
  const cdc = (args: string[], env: Record<string, string> = {}) =>
    runCdc(args, { connection: ctx.connection, env: { ...FAST, ...env } });
  /** `cdc <args>` on this test's topics, left running (killed by ctx.cleanup()). */
  const start = (args: string[], env: Record<string, string> = {}) =>
    ctx.track(startCdc(args, { connection: ctx.connection, env: { ...FAST, ...env } }));

  beforeEach(async () => {
    ctx = await createTestContext({ name: 'backfill' });
  });
  afterEach(() => ctx.cleanup());

  /** The consumer groups of this test's prefix (the test's own control clients excluded). */
  const groupsOf = async (): Promise<string[]> => {
    const { groups } = await ctx.admin.listGroups();
    const prefix = ctx.connection.topicPrefix;
    return groups
      .map((g) => g.groupId)
      .filter((g) => g.startsWith(prefix) && !g.startsWith(`${prefix}test`))
      .sort();
  };

  /** What a dry run or a refused command must leave untouched. */
  const snapshot = async () => ({
    control: await endOffsets(ctx, ctx.topics.control),
    silver: await endOffsets(ctx, ctx.topics.silver),
    deadLetters: await endOffsets(ctx, ctx.topics.deadLetter),
    groups: await groupsOf(),
  });

  it('re-derives the seed scenario in New York time: dry run first, then exactly once; the KPIs follow, counters unchanged, live enrichment follows, a rebuild agrees', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cdc-backfill-'));
    ctx.track({ close: () => rmSync(dir, { recursive: true, force: true }) });
    const db = path.join(dir, 'aggregator.db');
    expect((await cdc(['produce', '--scenario', 'seed'])).code).toBe(0);
    const enricher = start(['enrich', '--ops-port', '0']);
    const aggregator = start(['aggregate', '--db', db, '--ops-port', '0']);
    const control = controlClient(ctx);
    const group = `${ctx.connection.topicPrefix}cdc-enricher`;
    await waitFor(
      async () => (await readSilver(ctx)).length === 7 && (await control.read()).enrichers.size === 1,
      {
        timeoutMs: 60_000,
        intervalMs: 500,
        what: 'the UTC enrichment of the seed scenario',
      },
    );
    const utc = await readSilver(ctx);
    expect(utc.every((r) => r.derivation_epoch === 0 && r.time_zone === 'UTC')).toBe(true);
    expect(utc.every((r) => (r.after ?? r.before)!.booking_hour === 10)).toBe(true);
    await waitAggregated(ctx, db, 'the aggregator to apply the UTC records');
    const utcTables = dbTables(db);
    const rows = () =>
      withDb(db, (d) =>
        d
          .prepare('SELECT booking_id, booking_hour, day_of_week, derivation_epoch FROM bookings ORDER BY 1')
          .raw()
          .all(),
      );
    expect(rows()).toEqual(['B001', 'B002', 'B003', 'B004', 'B005'].map((id) => [id, 10, 3, 0]));
    const snapshotVersions = () =>
      new Map(
        withDb(db, (d) => d.prepare('SELECT movie_key, snapshot_version FROM movie_kpis').raw().all()) as [
          string,
          number,
        ][],
      );
    const utcVersions = snapshotVersions();

    // Dry run: the plan, and nothing changed (control topic, silver, consumer groups, the database).
    const before = await snapshot();
    const dry = await cdc(['backfill', '--time-zone', 'America/New_York', '--from-beginning']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('dry run: nothing was changed');
    expect(dry.stdout).toMatch(/settings now: +time zone UTC, rules 1, epoch 0/);
    expect(dry.stdout).toMatch(/settings after: +time zone America\/New_York, rules 1, epoch 1/);
    expect(dry.stdout).toMatch(/total +7 +2025-09-03T10:00:05.000Z +2025-09-03T10:30:05.000Z/);
    expect(dry.stdout).toMatch(/bookings last changed before the range: 0/);
    expect(dry.stdout).toContain(`1 member(s) must acknowledge the new epoch: ${group} member`);
    const plan = JSON.parse(
      (await cdc(['backfill', '--time-zone', 'America/New_York', '--json'])).stdout,
    ) as { epoch: number; records: number; stats: { bookingsInRange: number } };
    expect(plan).toMatchObject({ epoch: 1, records: 7, stats: { bookingsInRange: 5 } });
    expect(await snapshot()).toEqual(before);
    expect(dbTables(db)).toEqual(utcTables);

    const run = await cdc(['backfill', '--time-zone', 'America/New_York', '--from-beginning', '--execute']);
    expect(run.stderr).not.toMatch(/^error/m);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('backfill epoch 1 finished: 7 bronze records re-derived');

    // Exactly one re-derived record per bronze record, with the new epoch and zone.
    const silver = await readSilver(ctx);
    const rederived = silver.filter((r) => r.derivation_epoch === 1);
    expect(rederived.map((r) => r.event_id).sort()).toEqual(utc.map((r) => r.event_id).sort());
    for (const r of rederived) {
      expect(r.time_zone).toBe('America/New_York');
      for (const image of [r.before, r.after]) if (image) expect(image.booking_hour).toBe(6);
    }
    expect(silver.filter((r) => r.derivation_epoch === 0)).toHaveLength(7);
    const state = await control.read();
    expect(state.settings).toMatchObject({ time_zone: 'America/New_York', rules_version: '1', epoch: 1 });
    expect(state.backfills.get(1)).toMatchObject({ status: 'FINISHED', records: 7, from: 'beginning' });
    expect(state.enrichers.get(`enricher/${group}/enricher-0`)?.epoch).toBe(1);
    expect((await groupsOf()).filter((g) => g.includes('cdc-backfill'))).toEqual([]); // its group is gone

    // The aggregator: every booking re-derived (06:00 in New York, still a Wednesday), one active
    // hour per movie, the hour-10 reference counts retracted; every KPI, the event counters
    // included, as before; each movie re-published (a newer snapshot version, in gold too).
    await waitAggregated(ctx, db, 'the aggregator to apply the re-derived records');
    expect(rows()).toEqual(['B001', 'B002', 'B003', 'B004', 'B005'].map((id) => [id, 6, 3, 1]));
    const nyTables = dbTables(db);
    expect(nyTables.movie_kpis).toEqual(utcTables.movie_kpis);
    expect(nyTables.movie_kpis.every((m) => m.active_hours === 1)).toBe(true);
    expect(nyTables.movie_hour_counts).toEqual(
      ['M001', 'M002', 'M003', 'M004', 'M005'].map((movie_key) => ({ movie_key, booking_hour: 6, n: 1 })),
    );
    expect(
      withDb(db, (d) => d.prepare('SELECT SUM(rederived), SUM(skipped) FROM batch_history').raw().get()),
    ).toEqual([5, 2]); // the cancelled bookings' first versions are stale
    const nyVersions = snapshotVersions();
    for (const [movie, version] of utcVersions) expect(nyVersions.get(movie)).toBeGreaterThan(version);
    const kpisDecoder = createDecoder<MovieKpis>(
      createRegistryClient(ctx.connection.registryUrl),
      loadSchema('MovieKpis').type,
    );
    await waitFor(
      async () => {
        const newest = new Map<string, number>();
        for (const m of await readToEnd(ctx, ctx.topics.gold)) {
          const k = await kpisDecoder.decode(m.value);
          const key = m.key?.toString() ?? '';
          newest.set(key, Math.max(newest.get(key) ?? 0, k.snapshot_version));
        }
        return [...nyVersions].every(([movie, version]) => newest.get(movie) === version);
      },
      { timeoutMs: 30_000, intervalMs: 500, what: 'the re-derived KPIs to reach gold' },
    );

    // A new event, enriched by the running enricher with the new settings.
    const encoder = await bronzeEncoder(createRegistryClient(ctx.connection.registryUrl), ctx.topics.bronze);
    const [late] = bookingChanges(1, {
      seed: testSeed('backfill: the event after it'),
      idPrefix: 'after-backfill',
      startMs: Date.UTC(2025, 8, 3, 12, 0),
      dirtyRatio: 0,
    });
    await produceAll(ctx.kafka, ctx.topics.bronze, [bronzeMessage(encoder, late!)]);
    const derived = await waitFor(
      async () => (await readSilver(ctx)).find((r) => r.event_id === late!.event_id),
      { timeoutMs: 30_000, intervalMs: 500, what: 'the live enricher to derive the new event' },
    );
    expect(derived).toMatchObject({ derivation_epoch: 1, time_zone: 'America/New_York' });
    // A booking date within 30 days before 2025-09-03 12:00 UTC: New York is UTC-4.
    const utcHour = new Date(late!.after!.booking_date).getUTCHours();
    const nyHour = (utcHour + 20) % 24;
    expect(derived.after?.booking_hour).toBe(nyHour);
    // … and applied: a new booking, an event counted, the status changes untouched.
    await waitAggregated(ctx, db, 'the aggregator to apply the new event');
    expect(
      withDb(db, (d) =>
        d
          .prepare('SELECT booking_hour, derivation_epoch FROM bookings WHERE booking_id = ?')
          .raw()
          .get(late!.after!.booking_id),
      ),
    ).toEqual([nyHour, 1]);
    const total = (tables: DbTables, column: 'new_bookings' | 'status_changes') =>
      tables.movie_kpis.reduce((sum, m) => sum + Number(m[column]), 0);
    const live = dbTables(db);
    expect(total(live, 'new_bookings')).toBe(total(utcTables, 'new_bookings') + 1);
    expect(total(live, 'status_changes')).toBe(total(utcTables, 'status_changes'));

    // A rebuild from silver (UTC and New York records, the new event) gives the same tables.
    const rebuilt = path.join(dir, 'rebuilt.db');
    const rebuild = await cdc(['aggregate', '--rebuild', '--db', rebuilt]);
    expect(rebuild.code).toBe(0);
    expect(rebuild.stdout).toMatch(/15 changes \(13 applied, of which 5 re-derived, 2 skipped/);
    expect(dbTables(rebuilt)).toEqual(live);
    expect(await aggregator.stop('SIGTERM')).toBe(0);

    // The same command again: already done (exit 0); status says so.
    const again = await cdc(['backfill', '--time-zone', 'America/New_York', '--from-beginning', '--execute']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('Nothing to do: backfill epoch 1');
    const status = await cdc(['backfill', '--status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(
      'backfill epoch 1: FINISHED, time zone UTC, rules 1, epoch 0 -> time zone America/New_York',
    );
    expect(status.stdout).toContain(`${group}/enricher-0: epoch 1`);

    // After a bad enricher deploy: the same settings, re-derived under a new epoch on request.
    const same = await cdc(['backfill', '--from-beginning', '--execute']);
    expect(same.code).toBe(0);
    expect(same.stdout).toContain('Nothing to do: backfill epoch 1');
    const redo = await cdc(['backfill', '--from-beginning', '--rederive', '--execute']);
    expect(redo.code).toBe(0);
    expect(redo.stdout).toContain('backfill epoch 2 finished: 8 bronze records re-derived');
    const epoch2 = (await readSilver(ctx)).filter((r) => r.derivation_epoch === 2);
    expect(epoch2).toHaveLength(8);
    expect(epoch2.every((r) => r.time_zone === 'America/New_York')).toBe(true);
    expect(await enricher.stop('SIGTERM')).toBe(0);
  });

  it('re-derives only what reached bronze at or after --from, and counts the bookings it leaves', async () => {
    const encoder = await bronzeEncoder(createRegistryClient(ctx.connection.registryUrl), ctx.topics.bronze);
    const now = Date.now();
    // 600 changes of one history: the first 300 reached bronze an hour ago, the next 300 a second
    // ago. The new ones change some of the old bookings (and create others); the rest of the old
    // bookings were last changed before the range.
    const changes = bookingChanges(600, { seed: testSeed('backfill --from'), dirtyRatio: 0 });
    const [old, recent] = [changes.slice(0, 300), changes.slice(300)];
    const stamped = (list: typeof changes, ts: number) =>
      list.map((c) => ({ ...bronzeMessage(encoder, c), timestamp: String(ts) }));
    await produceAll(ctx.kafka, ctx.topics.bronze, [
      ...stamped(old, now - 3_600_000),
      ...stamped(recent, now - 1000),
    ]);
    const inRange = new Set(recent.map(bookingIdOf));
    const onlyBefore = new Set(old.map(bookingIdOf).filter((b) => !inRange.has(b)));
    expect(onlyBefore.size).toBeGreaterThan(0);
    expect(old.some((c) => inRange.has(bookingIdOf(c)))).toBe(true); // old bookings changed again
    const from = new Date(now - 60_000).toISOString();
    const args = ['backfill', '--time-zone', 'Europe/Berlin', '--from', from];
    const plan = JSON.parse((await cdc([...args, '--json'])).stdout) as {
      records: number;
      currentRecorded: boolean;
      stats: { bookingsInRange: number; bookingsBefore: number };
    };
    expect(plan).toMatchObject({
      records: 300,
      currentRecorded: false,
      stats: { bookingsInRange: inRange.size, bookingsBefore: onlyBefore.size },
    });

    // No enricher has ever run (no settings recorded, no live group): nothing to wait for.
    const run = await cdc([...args, '--execute']);
    expect(run.code).toBe(0);
    const silver = await readSilver(ctx);
    expect(silver).toHaveLength(300);
    expect(silver.map((r) => r.event_id).sort()).toEqual(recent.map((c) => c.event_id).sort());
    expect(silver.every((r) => r.derivation_epoch === 1)).toBe(true);
    expect(silver.every((r) => r.time_zone === 'Europe/Berlin')).toBe(true);
    expect((await controlClient(ctx).read()).backfills.get(1)).toMatchObject({
      from,
      status: 'FINISHED',
      previous: null,
    });
  });

  it('while the live pipeline keeps writing, no record keeps the old derivation (the switch before the range end)', async () => {
    const encoder = await bronzeEncoder(createRegistryClient(ctx.connection.registryUrl), ctx.topics.bronze);
    const changes = bookingChanges(12_000, {
      seed: testSeed('backfill while the pipeline writes'),
      idPrefix: 'live',
      liveBookings: 2000,
    });
    const messages = changes.map((c) => bronzeMessage(encoder, c));
    const producer = ctx.track(ctx.kafka.producer({ idempotent: true, maxInFlightRequests: 1 }));
    await producer.connect();
    await producer.send({ topic: ctx.topics.bronze, acks: -1, messages: messages.slice(0, 6000) });
    // A session long enough that the pause below does not evict it even on a loaded host (with
    // FAST's 6 s the group could be empty by the time the backfill looks: nothing to wait for).
    const enricher = start(['enrich', '--ops-port', '0'], {
      ENRICHER_CHUNK_RECORDS: '200',
      ENRICHER_SESSION_TIMEOUT_MS: '45000',
    });
    const group = `${ctx.connection.topicPrefix}cdc-enricher`;
    await waitFor(async () => (await controlClient(ctx).read()).enrichers.size === 1, {
      timeoutMs: 60_000,
      what: 'the live enricher to join',
    });
    // More trickles in while the backfill switches the settings and runs (and afterwards).
    let sent = 6000;
    let backfillDone = false;
    const trickle = (async () => {
      for (; sent < messages.length; sent += 50) {
        await producer.send({
          topic: ctx.topics.bronze,
          acks: -1,
          messages: messages.slice(sent, sent + 50),
        });
        if (!backfillDone) await new Promise((r) => setTimeout(r, 50));
      }
    })();
    await waitFor(() => sent >= 6200, { timeoutMs: 30_000, what: 'the trickle to start' });
    const sentBefore = sent;
    // The live enricher stalls (SIGSTOP) just as the backfill starts: the backfill records the new
    // settings, then must wait for its acknowledgement before it captures the range's end.
    enricher.pause();
    const backfill = start(['backfill', '--time-zone', 'America/New_York', '--execute']);
    const control = controlClient(ctx);
    await waitFor(async () => (await control.read()).backfills.get(1)?.status === 'SWITCHING', {
      timeoutMs: 30_000,
      what: 'the backfill to record the new settings',
    });
    await backfill.waitForOutput('waiting for 1 live enricher member(s) to switch to epoch 1', {
      stream: 'stderr',
      timeoutMs: 30_000,
    });
    const endsAtResume = await endOffsets(ctx, ctx.topics.bronze);
    expect(control.state.backfills.get(1)?.status).toBe('SWITCHING');
    enricher.resume();
    await backfill.expectExit(0);
    backfillDone = true;
    expect(sent).toBeGreaterThan(sentBefore); // the live pipeline was writing throughout
    expect(sent).toBeLessThan(messages.length);
    await trickle;
    const ends = await endOffsets(ctx, ctx.topics.bronze);
    await waitFor(
      async () => {
        const [t] = await ctx.admin.fetchOffsets({ groupId: group, topics: [ctx.topics.bronze] });
        return t!.partitions.every((p) => Number(p.offset) >= (ends.get(p.partition) ?? 0));
      },
      { timeoutMs: 60_000, intervalMs: 250, what: 'the live enricher to catch up' },
    );

    const backfilled = (await controlClient(ctx).read()).backfills.get(1)!;
    const rangeEnd = new Map(backfilled.partitions.map((p) => [p.partition, p.end]));
    // The end was captured after the stalled enricher came back and switched.
    for (const [partition, end] of rangeEnd) expect(end).toBeGreaterThanOrEqual(endsAtResume.get(partition)!);
    const bronzeAt = new Map<string, { partition: number; offset: number }>();
    for (const [partition, list] of await bronzeByPartition()) {
      for (const { eventId, offset } of list) bronzeAt.set(eventId, { partition, offset });
    }
    const silver = await readSilver(ctx);
    const epochs = new Map<string, number[]>();
    for (const r of silver) epochs.set(r.event_id, [...(epochs.get(r.event_id) ?? []), r.derivation_epoch]);
    expect(bronzeAt.size).toBe(changes.length);
    const problems: string[] = [];
    for (const [eventId, at] of bronzeAt) {
      const e = epochs.get(eventId) ?? [];
      const end = rangeEnd.get(at.partition)!;
      if (!e.includes(1)) problems.push(`${eventId}: no epoch-1 record`);
      if (at.offset >= end && e.includes(0))
        problems.push(`${eventId} at ${at.offset} >= ${end}: derived with epoch 0`);
      if (e.filter((x) => x === 1).length > 2) problems.push(`${eventId}: ${e.length} epoch-1 records`);
    }
    expect(problems.slice(0, 10)).toEqual([]);
    // Past the range's end, only the live enricher, with the new settings.
    expect([...bronzeAt.values()].some((at) => at.offset >= rangeEnd.get(at.partition)!)).toBe(true);
  });

  /** Bronze event ids and offsets, per partition. */
  const bronzeByPartition = async () => {
    const decoder = createDecoder<{ event_id: string }>(
      createRegistryClient(ctx.connection.registryUrl),
      loadSchema('BookingChange').type,
    );
    const out = new Map<number, { eventId: string; offset: number }[]>();
    for (const m of await readToEnd(ctx, ctx.topics.bronze)) {
      const list = out.get(m.partition) ?? [];
      list.push({ eventId: (await decoder.decode(m.value)).event_id, offset: Number(m.offset) });
      out.set(m.partition, list);
    }
    return out;
  };

  it('refuses bad input with exit 2, naming the option, and changes nothing', async () => {
    const encoder = await bronzeEncoder(createRegistryClient(ctx.connection.registryUrl), ctx.topics.bronze);
    await produceAll(
      ctx.kafka,
      ctx.topics.bronze,
      bookingChanges(60, { seed: testSeed('backfill bad input'), idPrefix: 'bad' }).map((c) =>
        bronzeMessage(encoder, c),
      ),
    );
    start(['enrich', '--ops-port', '0']);
    const group = `${ctx.connection.topicPrefix}cdc-enricher`;
    const bronzeEnds = await endOffsets(ctx, ctx.topics.bronze);
    await waitFor(
      async () => {
        if ((await controlClient(ctx).read()).enrichers.size === 0) return false;
        const [t] = await ctx.admin.fetchOffsets({ groupId: group, topics: [ctx.topics.bronze] });
        return t!.partitions.every((p) => Number(p.offset) >= (bronzeEnds.get(p.partition) ?? 0));
      },
      { timeoutMs: 60_000, intervalMs: 250, what: 'the enricher to record the settings and enrich bronze' },
    );
    // History deleted at the head of one partition.
    const ends = await endOffsets(ctx, ctx.topics.bronze);
    const [partition, high] = [...ends].sort((x, y) => y[1] - x[1])[0]!;
    const deleteBefore = Math.floor(high / 2);
    await ctx.admin.deleteTopicRecords({
      topic: ctx.topics.bronze,
      partitions: [{ partition, offset: String(deleteBefore) }],
    });
    const before = await snapshot();
    const cases: [string[], RegExp][] = [
      [['--time-zone', 'Mars/Olympus_Mons'], /--time-zone: unknown time zone 'Mars\/Olympus_Mons'/],
      [['--rules-version', '99'], /--rules-version: rules version '99' does not exist \(known: 1\)/],
      [
        ['--time-zone', 'Asia/Tokyo', '--from', '2999-01-01T00:00:00Z'],
        /--from 2999-01-01T00:00:00.000Z is in the future/,
      ],
      [
        ['--time-zone', 'Asia/Tokyo', '--from', '2020-01-01T00:00:00Z'],
        new RegExp(
          `--from .* is before the earliest offset bronze still holds \\(partition ${partition}: offset ${deleteBefore}`,
        ),
      ],
      [['--time-zone', 'Asia/Tokyo', '--from', 'last tuesday'], /--from must be a time in ISO 8601/],
      [
        ['--time-zone', 'UTC'],
        /nothing to do: the pipeline already derives with time zone UTC, rules 1, epoch 0/,
      ],
      [[], /nothing to do/],
      [['--status', '--execute'], /cannot be used with option/],
    ];
    for (const [args, message] of cases) {
      const r = await cdc(['backfill', ...args, '--execute'].filter((a, i, all) => all.indexOf(a) === i));
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toMatch(message);
    }
    expect(await snapshot()).toEqual(before);
  });
});
