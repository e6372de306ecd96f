import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { sleep, waitFor } from '@cdc/core';
import {
  CHURN_MIX,
  createTestContext,
  disorderedChanges,
  enrich,
  randomSuffix,
  seededRandom,
  testSeed,
  uniqueGroupId,
  type TestContext,
} from '@cdc/testing';
import { ReferenceModel, bookingDifferences, counterDifferences, kpiDifferences } from '../support/reference';
import { produceTransactional, silverEncoder, silverEnd, silverMessages, tempDir } from '../support/kafka';

/**
 * The aggregator process (`node bin/cdc.js aggregate`, built dist) is SIGKILLed at random moments
 * while events flow into silver, and restarted each time. At the end the KPIs must be exact and
 * the stored offsets must be the end of the topic. Then `cdc aggregate --rebuild` must give the
 * same database.
 */
const ROOT = path.resolve(__dirname, '../../../..');
const CLI = path.join(ROOT, 'bin/cdc.js');
const KILLS = 10;
const EVENTS = 48_000;
/** How long events keep flowing (about the length of the kill loop). */
const FLOW_MS = 70_000;

interface Child {
  proc: ChildProcess;
  stderr: string;
  exited: Promise<number | null>;
}

describe('aggregator killed with SIGKILL while events flow', () => {
  let ctx: TestContext;
  const tmp = tempDir('crash');
  const dbPath = path.join(tmp.dir, 'aggregator.db');
  const children: Child[] = [];
  const groupId = uniqueGroupId('agg-crash');

  beforeAll(async () => {
    if (!existsSync(path.join(ROOT, 'packages/cli/dist/main.js'))) {
      throw new Error('build first: npx tsc -b (this test runs the compiled CLI)');
    }
    ctx = await createTestContext({ partitions: 3, name: 'agg-crash' });
  });
  afterAll(async () => {
    for (const c of children)
      if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
    await Promise.all(children.map((c) => c.exited));
    await ctx.cleanup();
    tmp.remove();
  });

  function cdc(args: string[]): Child {
    const proc = spawn(process.execPath, [CLI, ...args], {
      cwd: ROOT,
      env: {
        ...process.env,
        KAFKA_BROKERS: ctx.connection.brokers.join(','),
        SCHEMA_REGISTRY_URL: ctx.connection.registryUrl,
        TOPIC_PREFIX: ctx.connection.topicPrefix,
        AGGREGATOR_GROUP_ID: groupId,
        AGGREGATOR_SESSION_TIMEOUT_MS: '6000',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const child: Child = {
      proc,
      stderr: '',
      exited: new Promise((resolve) => proc.once('exit', (code) => resolve(code))),
    };
    proc.stdout?.resume();
    proc.stderr?.on('data', (d: Buffer) => {
      child.stderr = (child.stderr + d.toString()).slice(-20_000);
    });
    children.push(child);
    return child;
  }

  /** The exit code (null: killed by a signal), with the child's log when it is not the expected one. */
  async function expectExit(child: Child, code: number | null): Promise<void> {
    const actual = await child.exited;
    if (actual !== code)
      throw new Error(`aggregator exited with ${actual}, expected ${code}:\n${child.stderr.slice(-4000)}`);
  }

  const storedOffsets = (): Map<number, number> => {
    if (!existsSync(dbPath)) return new Map();
    const db = new Database(dbPath, { readonly: true, fileMustExist: true });
    try {
      const rows = db
        .prepare('SELECT partition, next_offset FROM applied_offsets WHERE topic = ?')
        .all(ctx.topics.silver) as { partition: number; next_offset: number }[];
      return new Map(rows.map((r) => [r.partition, r.next_offset]));
    } catch {
      return new Map(); // schema not created yet
    } finally {
      db.close();
    }
  };
  const applied = () => [...storedOffsets().values()].reduce((a, b) => a + b, 0);

  test(`${KILLS} SIGKILLs at random moments; final KPIs exact, offsets at the end; rebuild equals live`, async () => {
    const seed = testSeed('aggregator crash');
    const random = seededRandom(seed + 10); // when to kill
    const rnd = () => random.float();
    const encoder = await silverEncoder(ctx);
    const changes = disorderedChanges(
      EVENTS,
      { seed, liveBookings: 2000, movies: 40, mix: CHURN_MIX },
      { redeliveryRate: 0.1 },
    );
    const model = new ReferenceModel();
    for (const c of changes) model.apply(enrich(c, { enrichedAtMs: 0 }));
    const messages = silverMessages(encoder, changes);

    // Events flow into silver (transactions of 200, paced) during the whole kill loop.
    let produced = 0;
    let flowing = true;
    const producing = (async () => {
      const producer = ctx.track(
        ctx.kafka.producer({
          transactionalId: `test-crash-${randomSuffix()}`,
          idempotent: true,
          maxInFlightRequests: 1,
        }),
      );
      await producer.connect();
      const t0 = Date.now();
      for (let i = 0; i < messages.length; i += 200) {
        await produceTransactional(ctx, messages.slice(i, i + 200), 200, producer);
        produced = i + 200;
        await sleep(Math.max(0, t0 + (produced / messages.length) * FLOW_MS - Date.now()));
      }
      flowing = false;
    })();

    let killedWhileApplying = 0;
    for (let k = 0; k < KILLS; k++) {
      const child = cdc(['aggregate', '--db', dbPath, '--ops-port', '0']);
      if (k % 3 !== 2) {
        // While it works: once it has joined and committed a batch (events keep flowing), a little later.
        const from = applied();
        await waitFor(
          () => child.stderr.includes('partitions assigned') && (applied() > from || flowing === false),
          {
            timeoutMs: 60_000,
            what: `restart ${k} to join the group and apply`,
          },
        );
        await sleep(Math.floor(rnd() * rnd() * 1000)); // skewed early: mostly while catching up
        if (applied() > from) killedWhileApplying += 1;
      } else {
        await sleep(Math.floor(rnd() * 4000)); // anywhere in start-up
      }
      child.proc.kill('SIGKILL');
      await expectExit(child, null);
    }
    await producing;
    expect(produced).toBeGreaterThanOrEqual(EVENTS);
    expect(killedWhileApplying).toBeGreaterThanOrEqual(5);

    const last = cdc(['aggregate', '--db', dbPath, '--ops-port', '0']);
    const end = await silverEnd(ctx);
    await waitFor(() => [...end].every(([p, e]) => (storedOffsets().get(p) ?? 0) >= e), {
      timeoutMs: 90_000,
      what: 'the last aggregator to reach the end of silver',
    });
    last.proc.kill('SIGTERM');
    await expectExit(last, 0);

    const db = new Database(dbPath, { readonly: true, fileMustExist: true });
    expect(storedOffsets()).toEqual(end);
    expect(kpiDifferences(db)).toEqual([]);
    expect(counterDifferences(db, model)).toEqual([]);
    expect(bookingDifferences(db, model)).toEqual([]);
    const meta = Object.fromEntries(
      db.prepare('SELECT key, value FROM meta').raw().all() as [string, string][],
    );
    expect(meta.published_snapshot_version).toBe(meta.snapshot_version); // nothing left unpublished
    const kpiColumns = (db.prepare('SELECT * FROM movie_kpis LIMIT 1').columns() as { name: string }[])
      .map((c) => c.name)
      .filter((c) => c !== 'updated_at' && c !== 'snapshot_version');
    const tables = [
      `SELECT ${kpiColumns.join(', ')} FROM movie_kpis ORDER BY movie_key`,
      'SELECT * FROM bookings ORDER BY booking_id',
      'SELECT * FROM movie_day_counts ORDER BY 1, 2',
      'SELECT * FROM movie_hour_counts ORDER BY 1, 2',
      'SELECT * FROM applied_offsets ORDER BY 1, 2',
    ];
    const live = tables.map((sql) => db.prepare(sql).all());
    db.close();

    // The rebuild (CLI) from silver gives the same database.
    const rebuild = cdc(['aggregate', '--rebuild', '--db', dbPath]);
    await expectExit(rebuild, 0);
    const rebuilt = new Database(dbPath, { readonly: true, fileMustExist: true });
    tables.forEach((sql, i) => expect(rebuilt.prepare(sql).all()).toEqual(live[i]));
    rebuilt.close();
  }, 360_000);
});
