import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import {
  createDecoder,
  createRegistryClient,
  loadSchema,
  waitFor,
  type BookingChange,
  type EnrichedBookingChange,
} from '@cdc/core';
import { readToEnd, type CdcProcess, type TestContext } from '@cdc/testing';

/** What the fault tests share: event ids read back, progress probes, timing. */

export const sum = (m: Map<number, number>): number => [...m.values()].reduce((a, b) => a + b, 0);

/** Event ids of bronze (BookingChange) or silver (EnrichedBookingChange) records, in read order. */
export async function eventIds(
  ctx: TestContext,
  topic: string,
  schema: 'bronze' | 'silver',
): Promise<string[]> {
  const registry = createRegistryClient(ctx.connection.registryUrl);
  const decoder =
    schema === 'bronze'
      ? createDecoder<BookingChange>(registry, loadSchema('BookingChange').type)
      : createDecoder<EnrichedBookingChange>(registry, loadSchema('EnrichedBookingChange').type);
  const out: string[] = [];
  for (const m of await readToEnd(ctx, topic)) {
    if (m.value) out.push((await decoder.decode(m.value)).event_id);
  }
  return out;
}

/** Ids that occur more than once. */
export function duplicates(ids: readonly string[]): string[] {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const id of ids) (seen.has(id) ? dup : seen).add(id);
  return [...dup];
}

/** The aggregator's applied offsets (SQLite), summed over the partitions of `topic`. */
export function appliedOffsets(dbPath: string, topic: string): number {
  if (!existsSync(dbPath)) return 0;
  let db: Database.Database | null = null;
  try {
    db = new Database(dbPath, { readonly: true, fileMustExist: true });
    const row = db
      .prepare('SELECT COALESCE(SUM(next_offset), 0) AS n FROM applied_offsets WHERE topic = ?')
      .get(topic) as { n: number };
    return row.n;
  } catch {
    return 0;
  } finally {
    db?.close();
  }
}

/**
 * Waits until `probe()` grows past its value now (or `from`); returns the time it took (ms). With
 * `owner`, the process whose progress it is: the wait fails at once if it exits, and a timeout's
 * message carries the end of its output (what it was doing instead).
 */
export async function timeUntilProgress(
  probe: () => Promise<number> | number,
  what: string,
  timeoutMs: number,
  options: { from?: number; owner?: CdcProcess } = {},
): Promise<number> {
  const started = Date.now();
  const base = options.from ?? (await probe());
  const grown = async () => (await probe()) > base;
  const wait = { timeoutMs, intervalMs: 100, what };
  await (options.owner ? options.owner.waitFor(grown, wait) : waitFor(grown, wait));
  return Date.now() - started;
}

/** Sends SIGTERM and returns the exit code and how long the exit took. */
export async function timedStop(
  p: CdcProcess,
  signal: NodeJS.Signals = 'SIGTERM',
  timeoutMs = 60_000,
): Promise<{ code: number | null; ms: number }> {
  const started = Date.now();
  const code = await p.stop(signal, { timeoutMs });
  return { code, ms: Date.now() - started };
}

/** The JSON body of an ops endpoint, with its status. */
export async function healthz(port: number): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2000) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** The ops port a service logged (`ops endpoints on … port N`), from its JSON log. */
export async function opsPortOf(p: CdcProcess): Promise<number> {
  const m = await p.waitForOutput(/"port":(\d+),"chosen":true/, { timeoutMs: 60_000 });
  return Number(m[1]);
}

/** Prints a measurement (these go to BENCHMARKS.md; the tests assert only deadlines). */
export function report(what: string, ms: number, extra = ''): void {
  process.stdout.write(`[measured] ${what}: ${(ms / 1000).toFixed(2)} s${extra ? ` ${extra}` : ''}\n`);
}

/** Sum of a group's committed offsets on a topic (how far a stage got). */
export async function committedSum(ctx: TestContext, groupId: string, topic: string): Promise<number> {
  const [t] = await ctx.admin.fetchOffsets({ groupId, topics: [topic] });
  return (t?.partitions ?? []).reduce((s, p) => s + Math.max(0, Number(p.offset)), 0);
}
