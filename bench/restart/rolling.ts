import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import {
  createDecoder,
  createRegistryClient,
  loadSchema,
  sleep,
  waitFor,
  type BookingChange,
  type EnrichedBookingChange,
  type Consumer,
} from '@cdc/core';
import { enrich, startCdc, type CdcProcess } from '@cdc/testing';
import { openBenchRun, type BenchRun } from '../support/pipeline';
import { brokerPid, round } from '../e2e/common';

/**
 * `npm run bench -- rolling`: a rolling restart under a steady stream. The pipeline runs as `cdc`
 * processes on topics of its own (BENCH_PARTITIONS, default 6): two enrichers (instance ids a and b,
 * one group), one aggregator (one database is one read model: a second aggregator in the group
 * would hold only its partitions' KPIs), the dashboard, and `cdc produce --rate` (BENCH_ROLLING_RATE,
 * 1,000 events/s). After a steady window, each of enricher a, enricher b and the aggregator in turn
 * gets SIGTERM, is waited for, and started again with the same settings; BENCH_ROLLING_OBSERVE_S
 * (10) after the new process joined its group (its start-up and join times are reported: on a
 * loaded machine, node's start dominates), the next one goes. Per restart it reports how long each partition stood still: the
 * longest gap between the arrivals of its enriched records (silver, read committed, for an
 * enricher) or between moves of its applied offset in the aggregator's database (sampled every
 * 100 ms, for the aggregator), from the SIGTERM to the end of the window. Then the producer stops
 * and the run checks, with a timeout, that the KPIs /api/kpis serves equal an oracle folded here
 * from every bronze record (newest version wins, a delete removes the row), and that silver holds
 * each bronze change exactly once (no loss, no duplicate).
 *
 * BENCH_ROLLING_MODES (default "leave,stay"): the services' ENRICHER_/AGGREGATOR_LEAVE_GROUP_ON_STOP,
 * one full run per mode on fresh topics, in that order: `leave` (a stopping service sends LeaveGroup,
 * the group rebalances at the stop and again at the start) and `stay` (the static member stays in
 * the group until its session times out; back within it, it takes its partitions back without a
 * rebalance). One JSON line per mode.
 */
const num = (name: string, def: number): number => {
  const v = Number(process.env[name] ?? def);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number`);
  return v;
};
const RATE = num('BENCH_ROLLING_RATE', 1000);
const PARTITIONS = num('BENCH_PARTITIONS', 6);
const STEADY_S = num('BENCH_ROLLING_STEADY_S', 15);
const OBSERVE_S = num('BENCH_ROLLING_OBSERVE_S', 10);
const JOIN_TIMEOUT_S = 120;
const MODES = (process.env.BENCH_ROLLING_MODES ?? 'leave,stay').split(',').map((m) => m.trim());
for (const m of MODES) if (m !== 'leave' && m !== 'stay') throw new Error(`BENCH_ROLLING_MODES: ${m}?`);
const SAMPLE_MS = 100;
/**
 * BENCH_ROLLING_LOGS: a folder for every process's log. BENCH_ROLLING_LOG_LEVEL (default info: the
 * start-up lines time each restart's start and join).
 */
const LOGS = process.env.BENCH_ROLLING_LOGS;
const LOG_LEVEL = process.env.BENCH_ROLLING_LOG_LEVEL ?? 'info';

const say = (msg: string): void => void process.stderr.write(`[bench rolling] ${msg}\n`);
const load1 = (): number => round(os.loadavg()[0]!, 2);

/** The broker's version, from its command line (the stack runs it from kafka-<version>/). */
function brokerVersion(pid: number | null): string {
  if (pid === null) return 'unknown';
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return /kafka[-_](?:2\.\d+-)?(\d+\.\d+\.\d+)/.exec(cmd)?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** When each partition made progress (epoch ms, ascending). */
class Progress {
  readonly at = new Map<number, number[]>();
  mark(partition: number, t: number): void {
    const list = this.at.get(partition) ?? [];
    list.push(t);
    this.at.set(partition, list);
  }
  /** Per partition, the longest time without progress within [from, to] (ms). */
  longestGaps(from: number, to: number): Record<number, number> {
    const out: Record<number, number> = {};
    for (let p = 0; p < PARTITIONS; p++) {
      const times = this.at.get(p) ?? [];
      let last = from;
      let longest = 0;
      for (const t of times) {
        if (t <= from) continue;
        if (t > to) break;
        longest = Math.max(longest, t - last);
        last = t;
      }
      out[p] = Math.max(longest, to - last);
    }
    return out;
  }
}

/** Reads bronze and silver from the start: the oracle's input, the silver duplicates, the enrichers' progress. */
interface Tracer {
  bronze: BookingChange[];
  bronzeNext: Map<number, number>;
  silverKeys: Map<string, number>;
  silverCount: number;
  enriched: Progress;
  consumer: Consumer;
}

async function startTracer(run: BenchRun): Promise<Tracer> {
  const registry = createRegistryClient(run.connection.registryUrl);
  const bronzeDecoder = createDecoder<BookingChange>(registry, loadSchema('BookingChange').type);
  const silverDecoder = createDecoder<EnrichedBookingChange>(
    registry,
    loadSchema('EnrichedBookingChange').type,
  );
  const consumer = run.kafka.consumer({ groupId: `${run.prefix}bench-tracer`, maxWaitTimeInMs: 100 });
  const t: Tracer = {
    bronze: [],
    bronzeNext: new Map(),
    silverKeys: new Map(),
    silverCount: 0,
    enriched: new Progress(),
    consumer,
  };
  await consumer.connect();
  await consumer.subscribe({ topics: [run.topics.bronze, run.topics.silver], fromBeginning: true });
  await consumer.run({
    partitionsConsumedConcurrently: 4,
    eachBatch: async ({ batch }) => {
      const at = Date.now();
      if (batch.topic === run.topics.silver && batch.messages.length > 0)
        t.enriched.mark(batch.partition, at);
      for (const m of batch.messages) {
        if (m.value === null) continue;
        if (batch.topic === run.topics.bronze) {
          t.bronze.push(bronzeDecoder.decodeKnown(m.value) ?? (await bronzeDecoder.decode(m.value)));
          t.bronzeNext.set(batch.partition, Number(m.offset) + 1);
        } else {
          const c = silverDecoder.decodeKnown(m.value) ?? (await silverDecoder.decode(m.value));
          const image = (c.after ?? c.before)!;
          const key = `${image.booking_id}#${image.version}#${c.op}`;
          t.silverKeys.set(key, (t.silverKeys.get(key) ?? 0) + 1);
          t.silverCount++;
        }
      }
    },
  });
  return t;
}

/** The KPIs the oracle checks, per movie. */
interface OracleKpis {
  total_bookings: number;
  valid_bookings: number;
  active_bookings: number;
  cancelled_bookings: number;
  total_tickets: number;
  total_active_revenue_cents: number;
  total_gross_revenue_cents: number;
}
const ORACLE_COLUMNS: (keyof OracleKpis)[] = [
  'total_bookings',
  'valid_bookings',
  'active_bookings',
  'cancelled_bookings',
  'total_tickets',
  'total_active_revenue_cents',
  'total_gross_revenue_cents',
];

/**
 * The per-movie KPIs over the current bookings, folded from bronze: the newest version of each
 * booking wins (a delete is the version after its before-image's), a deleted booking counts nowhere.
 */
function oracle(changes: readonly BookingChange[]): Map<string, OracleKpis> {
  const rows = new Map<string, { version: number; change: BookingChange }>();
  for (const c of changes) {
    const image = (c.op === 'd' ? c.before : c.after)!;
    const version = c.op === 'd' ? image.version + 1 : image.version;
    const stored = rows.get(image.booking_id);
    if (!stored || stored.version < version) rows.set(image.booking_id, { version, change: c });
  }
  const out = new Map<string, OracleKpis>();
  for (const { change } of rows.values()) {
    if (change.op === 'd') continue;
    const b = enrich(change).after!;
    const key = b.movie_id ?? '(none)';
    const k = out.get(key) ?? {
      total_bookings: 0,
      valid_bookings: 0,
      active_bookings: 0,
      cancelled_bookings: 0,
      total_tickets: 0,
      total_active_revenue_cents: 0,
      total_gross_revenue_cents: 0,
    };
    k.total_bookings++;
    if (b.is_valid_booking) {
      const revenue = b.ticket_count * b.ticket_price;
      k.valid_bookings++;
      k.total_tickets += b.ticket_count;
      k.total_gross_revenue_cents += revenue;
      if (b.status === 'BOOKED') {
        k.active_bookings++;
        k.total_active_revenue_cents += revenue;
      }
      if (b.status === 'CANCELLED') k.cancelled_bookings++;
    }
    out.set(key, k);
  }
  return out;
}

/** Differences between /api/kpis and the oracle (a movie missing on one side compares with zeros). */
async function kpiDifferences(url: string, expected: Map<string, OracleKpis>): Promise<string[]> {
  const res = await fetch(`${url}/api/kpis`);
  const body = (await res.json()) as { movies: (OracleKpis & { movie_key: string })[] };
  const served = new Map(body.movies.map((m) => [m.movie_key, m]));
  const diffs: string[] = [];
  for (const movie of new Set([...expected.keys(), ...served.keys()])) {
    for (const col of ORACLE_COLUMNS) {
      const want = expected.get(movie)?.[col] ?? 0;
      const got = Number(served.get(movie)?.[col] ?? 0);
      if (want !== got) diffs.push(`${movie}.${col}: served ${got}, oracle ${want}`);
    }
  }
  return diffs;
}

/** The aggregator's applied offsets, sampled from its database. */
function sampleAggregator(dbPath: string, progress: Progress): () => void {
  let db: Database.Database | null = null;
  const last = new Map<number, number>();
  const timer = setInterval(() => {
    try {
      db ??= new Database(dbPath, { readonly: true, fileMustExist: true });
      const rows = db.prepare('SELECT partition, next_offset FROM applied_offsets').all() as {
        partition: number;
        next_offset: number;
      }[];
      const now = Date.now();
      for (const r of rows) {
        if (last.get(r.partition) !== r.next_offset) progress.mark(r.partition, now);
        last.set(r.partition, r.next_offset);
      }
    } catch {
      // not created yet, or busy: the next sample
    }
  }, SAMPLE_MS);
  return () => {
    clearInterval(timer);
    db?.close();
  };
}

interface Restart {
  service: string;
  /** SIGTERM to exit. */
  stop_ms: number;
  /** Start to its ops endpoint listening (node, modules, config: the machine's load shows here). */
  start_ms: number | null;
  /** Start to its group joined and partitions assigned. */
  join_ms: number | null;
  /** The partitions the restarted enricher was given back; every partition for the aggregator. */
  own_partitions: number[];
  /** The longest stand-still of its own partitions, and of the other enricher's (null for the aggregator). */
  own_max_ms: number;
  others_max_ms: number | null;
  /** Per partition, the longest time without progress from the SIGTERM to the end of the window (ms). */
  stood_still_ms: Record<number, number>;
  stood_still_max_ms: number;
  /** The same, for the partitions of the other stage (an enricher restart as the aggregator saw it). */
  downstream_max_ms: number;
}

async function runMode(mode: 'leave' | 'stay', versionLabel: string): Promise<Record<string, unknown>> {
  const run = await openBenchRun(`rolling-${mode}`);
  const { connection, prefix, tmp } = run;
  const db = path.join(tmp, 'aggregator.db');
  const leave = String(mode === 'leave');
  const env = {
    LOG_LEVEL,
    ENRICHER_LEAVE_GROUP_ON_STOP: leave,
    AGGREGATOR_LEAVE_GROUP_ON_STOP: leave,
  };
  const all: CdcProcess[] = [];
  const cdc = (args: string[]): CdcProcess => {
    const p = startCdc(args, { connection, env });
    all.push(p);
    return p;
  };
  const argsOf = {
    'enricher a': ['enrich', '--instance-id', 'a', '--ops-port', '0'],
    'enricher b': ['enrich', '--instance-id', 'b', '--ops-port', '0'],
    aggregator: ['aggregate', '--db', db, '--ops-port', '0'],
  } as const;
  type Name = keyof typeof argsOf;
  const procs = new Map<Name | 'ui' | 'producer', CdcProcess>();
  const aggregated = new Progress();
  let stopSampling = (): void => undefined;
  let tracer: Tracer | null = null;
  const load0 = load1();
  try {
    await cdc(['topics', 'create', '--partitions', String(PARTITIONS)]).expectExit(0, { timeoutMs: 60_000 });
    for (const name of Object.keys(argsOf) as Name[]) procs.set(name, cdc([...argsOf[name]]));
    const ui = cdc(['ui', '--port', '0', '--db', db]);
    procs.set('ui', ui);
    const url = (await ui.waitForOutput(/dashboard at (\S+)/, { stream: 'stdout', timeoutMs: 60_000 }))[1]!;
    tracer = await startTracer(run);
    stopSampling = sampleAggregator(db, aggregated);
    const producer = cdc([
      'produce',
      '--rate',
      String(RATE),
      '--seed',
      '7',
      '--no-progress',
      '--ops-port',
      '0',
    ]);
    procs.set('producer', producer);
    const tr = tracer;
    await waitFor(() => [...Array(PARTITIONS).keys()].every((p) => (aggregated.at.get(p)?.length ?? 0) > 0), {
      timeoutMs: 120_000,
      what: 'every partition to reach the aggregator',
    });
    const steady0 = Date.now();
    await sleep(STEADY_S * 1000);
    const steady = {
      enriched_max_ms: Math.max(...Object.values(tr.enriched.longestGaps(steady0, Date.now()))),
      aggregated_max_ms: Math.max(...Object.values(aggregated.longestGaps(steady0, Date.now()))),
    };
    say(
      `${mode}: steady gaps enriched ${steady.enriched_max_ms} ms, aggregated ${steady.aggregated_max_ms} ms`,
    );

    const restarts: Restart[] = [];
    for (const name of Object.keys(argsOf) as Name[]) {
      const t0 = Date.now();
      await procs.get(name)!.stop('SIGTERM', { timeoutMs: 60_000 });
      const stopMs = Date.now() - t0;
      const started = Date.now();
      const p = cdc([...argsOf[name]]);
      procs.set(name, p);
      const after = (pattern: RegExp) =>
        p
          .waitForOutput(pattern, { timeoutMs: JOIN_TIMEOUT_S * 1000 })
          .then((m) => ({ ms: Date.now() - started, m }))
          .catch(() => null);
      const [up, join] = await Promise.all([
        after(/ops endpoints/),
        after(
          name === 'aggregator' ? /partitions assigned/ : /"assigned":\[([^\]]*)\][^\n]*joined the group/,
        ),
      ]);
      await sleep(OBSERVE_S * 1000);
      const t1 = Date.now();
      const own = name === 'aggregator' ? aggregated : tr.enriched;
      const other = name === 'aggregator' ? tr.enriched : aggregated;
      const gaps = own.longestGaps(t0, t1);
      const all = [...Array(PARTITIONS).keys()];
      const ownPartitions =
        name === 'aggregator' || !join?.m[1]
          ? all
          : [...join.m[1].matchAll(/:(\d+)"/g)].map((x) => Number(x[1])).sort((a, b) => a - b);
      const maxOf = (ps: number[]) => (ps.length === 0 ? null : Math.max(...ps.map((q) => gaps[q]!)));
      const r: Restart = {
        service: name,
        stop_ms: stopMs,
        start_ms: up?.ms ?? null,
        join_ms: join?.ms ?? null,
        own_partitions: ownPartitions,
        own_max_ms: maxOf(ownPartitions)!,
        others_max_ms: name === 'aggregator' ? null : maxOf(all.filter((q) => !ownPartitions.includes(q))),
        stood_still_ms: gaps,
        stood_still_max_ms: Math.max(...Object.values(gaps)),
        downstream_max_ms: Math.max(...Object.values(other.longestGaps(t0, t1))),
      };
      restarts.push(r);
      say(
        `${mode}: ${name} stopped in ${stopMs} ms, up ${r.start_ms} ms, joined ${r.join_ms} ms (${ownPartitions.join(',')}); stood still per partition ${JSON.stringify(gaps)} ms; ` +
          `other stage max ${r.downstream_max_ms} ms; load ${load1()}`,
      );
    }

    await producer.stop('SIGTERM', { timeoutMs: 60_000 });
    const ends = await run.admin.fetchTopicOffsets(run.topics.bronze);
    await waitFor(
      () => ends.every((e) => Number(e.high) === 0 || tr.bronzeNext.get(e.partition) === Number(e.high)),
      {
        timeoutMs: 120_000,
        what: 'the tracer to read bronze to its end',
      },
    );
    const expected = oracle(tr.bronze);
    let diffs: string[] = [];
    const converged = await waitFor(
      async () => {
        diffs = await kpiDifferences(url, expected);
        return diffs.length === 0 && tr.silverCount >= tr.bronze.length;
      },
      { timeoutMs: 120_000, intervalMs: 1000, what: 'the served KPIs to equal the oracle' },
    )
      .then(() => true)
      .catch(() => false);
    const duplicates = [...tr.silverKeys.values()].filter((n) => n > 1).length;
    const line = {
      bench: 'restart/rolling',
      mode,
      kafka: versionLabel,
      rate: RATE,
      partitions: PARTITIONS,
      produced: tr.bronze.length,
      enriched: tr.silverCount,
      silver_duplicates: duplicates,
      kpis_equal_oracle: converged,
      kpi_differences: diffs.slice(0, 10),
      steady_longest_gap_ms: steady,
      restarts,
      load_average_1m: [load0, load1()],
      conditions: {
        cpus: os.cpus().length,
        node: process.version,
        observe_after_join_s: OBSERVE_S,
        enricher_session_timeout_ms: 30_000,
        aggregator_session_timeout_ms: 10_000,
      },
    };
    say(
      `${mode}: produced ${line.produced}, enriched ${line.enriched}, duplicates ${duplicates}, ` +
        `KPIs equal the oracle: ${converged}${diffs.length ? ` (${diffs.slice(0, 3).join('; ')})` : ''}`,
    );
    return line;
  } finally {
    stopSampling();
    await tracer?.consumer.disconnect().catch(() => undefined);
    await Promise.all(
      [...procs.values()].map(async (p) => {
        if (p.running()) await p.stop('SIGTERM', { timeoutMs: 30_000 }).catch(() => p.kill());
      }),
    );
    if (LOGS !== undefined) {
      mkdirSync(LOGS, { recursive: true });
      all.forEach((p, i) =>
        writeFileSync(path.join(LOGS, `${mode}-${i}-${p.args[0]}.log`), `${p.args.join(' ')}\n${p.stderr()}`),
      );
    }
    await run.cleanup([`${prefix}cdc-enricher`, `${prefix}cdc-aggregator`, `${prefix}bench-tracer`]);
  }
}

async function main(): Promise<void> {
  const version = brokerVersion(brokerPid(process.env.KAFKA_BROKERS?.split(',')[0] ?? ''));
  say(`Kafka ${version}; ${RATE} events/s on ${PARTITIONS} partitions; modes ${MODES.join(', ')}`);
  for (const mode of MODES)
    process.stdout.write(`${JSON.stringify(await runMode(mode as 'leave' | 'stay', version))}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
