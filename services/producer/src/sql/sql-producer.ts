import type { Logger } from '@cdc/core';
import { startOpsServer } from '@cdc/observe';
import type { Generated } from '@cdc/bookings';
import { createProgress, type ProgressMode } from '../progress';
import { createSource, type Source } from '../source';
import { emptyByKind } from '../summary';
import { sleep } from '../timing';
import type { SqlProduceConfig } from './sql-config';
import { createSqlProducerMetrics, type SqlProducerMetrics } from './sql-metrics';
import type { SqlProduceSummary } from './sql-summary';
import { SqlWriter, type Refusal, type SqlTarget } from './sql-writer';
import { createTransactionSizes } from './statements';

/**
 * `cdc produce --to postgres`: the producer's generated traffic and scenarios, written to the
 * source table as SQL (statements.ts), in transactions of 1 to --max-transaction consecutive
 * changes, paced by --rate. The changes then reach the pipeline the way a booking application's
 * do: through the database's log, Debezium and the capture stage.
 */
export interface SqlRunControls {
  target: SqlTarget;
  logger: Logger;
  signal?: AbortSignal;
  progress?: ProgressMode;
  /** Event time of the next change (default Date.now). Tests pass a fixed clock. */
  clock?: () => number;
  onStarted?: (info: { database: string; opsPort: number | null }) => void;
}

/** Refusals logged one by one; after these, one line per REFUSAL_LOG_EVERY (all are in the summary's count). */
const REFUSALS_LOGGED = 20;
const REFUSAL_LOG_EVERY = 1000;
/** Refusals kept for the summary. */
const REFUSALS_KEPT = 10;
/** A run that falls behind its rate catches up by at most this much, never with an unbounded burst. */
const MAX_CATCH_UP_MS = 1000;

export async function runToPostgres(
  config: SqlProduceConfig,
  ctl: SqlRunControls,
): Promise<SqlProduceSummary> {
  const { logger } = ctl;
  const writer = await SqlWriter.open(ctl.target);
  const metrics = createSqlProducerMetrics();
  const run = new SqlRun(
    config,
    ctl,
    writer,
    metrics,
    createSource(config, await writer.nextBookingNumber(), Date.now()),
  );
  let ops: Awaited<ReturnType<typeof startOpsServer>> | null = null;
  try {
    ops =
      config.opsPort === null
        ? null
        : await startOpsServer({
            port: config.opsPort,
            metrics: metrics.registry,
            logger,
            portSetting: { option: '--ops-port' },
            health: () => ({
              ok: run.failure === null,
              status: run.failure ? 'failed' : 'producing',
              ...run.counts(),
            }),
          });
    logger.info(
      {
        database: writer.describe,
        ratePerSec: config.ratePerSec ?? 'max',
        count: run.source.total,
        durationMs: config.durationMs,
        maxTransactionChanges: config.maxTransactionChanges,
        source: run.source.summary,
      },
      'writing booking changes to the database',
    );
    ctl.onStarted?.({ database: writer.describe, opsPort: ops?.port ?? null });
    await run.run();
  } finally {
    await ops?.close();
    await writer.close();
  }
  const summary = run.summary();
  logger.info({ ...summary, refusals: undefined }, `producer ${summary.status}`);
  return summary;
}

class SqlRun {
  readonly committed = emptyByKind();
  private committedTotal = 0;
  private transactions = 0;
  private refusedTotal = 0;
  private readonly refusals: Refusal[] = [];
  private generated = 0;
  failure: Error | null = null;
  private status: SqlProduceSummary['status'] = 'completed';
  private startedAt = Date.now();
  private endedAt: number | null = null;
  private readonly nextSize: () => number;

  constructor(
    private readonly config: SqlProduceConfig,
    private readonly ctl: SqlRunControls,
    private readonly writer: SqlWriter,
    private readonly metrics: SqlProducerMetrics,
    readonly source: Source,
  ) {
    const seed = source.summary.seed ?? 0;
    this.nextSize = createTransactionSizes(seed, config.maxTransactionChanges);
  }

  counts(): { generated: number; committed: number; refused: number; transactions: number } {
    return {
      generated: this.generated,
      committed: this.committedTotal,
      refused: this.refusedTotal,
      transactions: this.transactions,
    };
  }

  /**
   * Transactions until the count, the duration or the signal says stop, or the database fails.
   * With a rate, change i is due at start + i / rate, and a transaction goes when its last change
   * is due; a scenario's timed changes go when their time comes.
   */
  async run(): Promise<void> {
    const { config, source } = this;
    const signal = this.ctl.signal;
    const progress = createProgress({
      mode: this.ctl.progress ?? 'auto',
      total: source.total,
      logger: this.ctl.logger,
    });
    const timer = setInterval(() => progress.update(this.snapshot()), progress.intervalMs);
    timer.unref();
    this.startedAt = Date.now();
    const deadline = config.durationMs === null ? Infinity : this.startedAt + config.durationMs;
    const rate = config.ratePerSec;
    const clock = this.ctl.clock ?? Date.now;
    let paced = 0;
    let pacedFrom = this.startedAt;
    let size = this.nextSize();
    try {
      for (;;) {
        if (signal?.aborted) {
          this.status = 'stopped';
          break;
        }
        const remaining = source.total === null ? Infinity : source.total - this.generated;
        const now = Date.now();
        if (remaining <= 0 || now >= deadline) break;
        const timed = source.nextDueTs() === null ? [] : source.due(now);
        if (timed.length > 0) {
          this.generated += timed.length;
          await this.writeGrouped(timed);
          continue;
        }
        const n = source.next === null ? 0 : Math.min(size, remaining);
        // When the transaction's last change is due (now without a rate; never without paced traffic).
        const dueAt = n === 0 ? Infinity : rate === null ? now : pacedFrom + ((paced + n - 1) * 1000) / rate;
        if (dueAt > now) {
          const nextTs = source.nextDueTs();
          const wait = Math.min(dueAt - now, nextTs === null ? Infinity : nextTs - now, deadline - now, 1000);
          await sleep(Math.max(1, wait), signal);
          continue;
        }
        if (rate !== null && now - dueAt > MAX_CATCH_UP_MS) {
          pacedFrom = now - MAX_CATCH_UP_MS - ((paced + n - 1) * 1000) / rate;
        }
        const tx: Generated[] = [];
        for (let i = 0; i < n; i++) tx.push(source.next!(clock()));
        paced += n;
        this.generated += n;
        size = this.nextSize();
        await this.write(tx);
      }
    } catch (err) {
      this.failure = err as Error;
      this.status = 'failed';
      this.ctl.logger.error({ err }, 'writing to the database failed; stopping');
    } finally {
      clearInterval(timer);
      this.endedAt = Date.now();
      progress.stop(this.snapshot());
    }
  }

  /** Timed changes due together, in transactions of the usual sizes. */
  private async writeGrouped(changes: Generated[]): Promise<void> {
    for (let i = 0; i < changes.length;) {
      const n = this.nextSize();
      await this.write(changes.slice(i, i + n));
      i += n;
    }
  }

  private async write(tx: Generated[]): Promise<void> {
    const outcome = await this.writer.write(tx);
    for (const g of outcome.committed) this.committed[g.kind] += 1;
    this.committedTotal += outcome.committed.length;
    this.transactions += 1;
    this.metrics.committed(outcome.committed.map((g) => g.kind));
    for (const r of outcome.refused) this.refuse(r);
  }

  private refuse(r: Refusal): void {
    this.refusedTotal += 1;
    this.metrics.refused(r.change.kind);
    if (this.refusals.length < REFUSALS_KEPT) this.refusals.push(r);
    if (this.refusedTotal <= REFUSALS_LOGGED) {
      this.ctl.logger.warn(
        { bookingId: r.bookingId, kind: r.change.kind, sqlState: r.sqlState, reason: r.reason },
        'the database refused a change; it is left out, the others are written',
      );
    } else if (this.refusedTotal % REFUSAL_LOG_EVERY === 0) {
      this.ctl.logger.warn({ refused: this.refusedTotal }, 'changes refused by the database so far');
    }
  }

  private snapshot() {
    return {
      generated: this.generated,
      sent: this.committedTotal + this.refusedTotal,
      acked: this.committedTotal,
      inFlight: 0,
      failed: this.refusedTotal,
    };
  }

  summary(): SqlProduceSummary {
    const durationMs = (this.endedAt ?? Date.now()) - this.startedAt;
    return {
      status: this.status,
      database: this.writer.describe,
      committed: { ...this.committed },
      committedTotal: this.committedTotal,
      transactions: this.transactions,
      refused: this.refusedTotal,
      refusals: this.refusals.map((r) => ({
        bookingId: r.bookingId,
        kind: r.change.kind,
        reason: r.reason,
        ...(r.sqlState ? { sqlState: r.sqlState } : {}),
      })),
      generated: this.generated,
      dirty: this.source.dirty(),
      durationMs,
      changesPerSec: durationMs > 0 ? (this.committedTotal * 1000) / durationMs : 0,
      source: this.source.summary,
      ...(this.failure ? { error: this.failure.message } : {}),
    };
  }
}
