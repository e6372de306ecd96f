import { randomBytes } from 'node:crypto';
import path from 'node:path';
import {
  assertTimeZone,
  UnavailableError,
  createKafka,
  createLogger,
  createRegistryClient,
  errorMessage,
  topicNames,
  UsageError,
  type ConnectionConfig,
  type Logger,
  type LogLevel,
} from '@cdc/core';
import { DEFAULT_MAX_OUTAGE_MS } from '../config';
import { prepareBronze } from '../connect';
import { createSender, finishSending, type Sender } from '../sender';
import { race, yieldToIo } from '../timing';
import { decideRows, parseEntries } from './block';
import { loadBronzeState, type BronzeStateStats } from './bronze-state';
import { createCheckpointTracker, emptyCounts, type Checkpoint, type ImportCounts } from './checkpoint';
import type { ColumnMap } from './columns';
import { openInput } from './input';
import { createImportProgress, type ImportProgressMode } from './progress';
import {
  identify,
  progressPath,
  readProgress,
  removeProgress,
  settingsKey,
  writeProgress,
  type ImportRun,
} from './progress-file';
import { openRejects, rejectsPath } from './rejects';
import { createStateStore } from './state-store';
import type { ImportSummary } from './summary';
import { createTimestampParser } from './timestamps';

/**
 * `cdc import FILE`: existing bookings into bronze as snapshot reads, the way a Debezium initial
 * snapshot does (see the modules beside this one for each concern). The input is streamed; what
 * bronze holds per booking is read first (bronze-state.ts) so the import continues its versions
 * and skips what is already there; records are sent by the producer's own sender (idempotent,
 * acks=all, one request in flight per lane); progress is recorded as the broker acknowledges.
 */
export interface ImportConfig {
  /** A file path, or '-' for stdin. */
  input: string;
  format?: string;
  map: ColumnMap;
  /** IANA zone of timestamps written without one. */
  timeZone: string;
  dryRun: boolean;
  batchSize: number;
  producers: number;
  /** Default: next to the input. */
  rejectsFile?: string;
}

export interface ImportControls {
  connection: ConnectionConfig;
  logger: Logger;
  signal?: AbortSignal;
  progress?: ImportProgressMode;
  /** Event time of the snapshot reads (default: now, kept across a resume). */
  clock?: () => number;
  connectTimeoutMs?: number;
  drainTimeoutMs?: number;
  /** How often the progress file is rewritten. */
  checkpointIntervalMs?: number;
}

export const IMPORT_KINDS = ['created', 'updated', 'recreated'] as const;

/** Checks options before anything is read or sent: a bad one is a UsageError (exit 2). */
function validate(config: ImportConfig): void {
  try {
    assertTimeZone(config.timeZone);
  } catch (err) {
    throw new UsageError(`--time-zone: ${errorMessage(err)}`);
  }
}

export async function runImport(config: ImportConfig, ctl: ImportControls): Promise<ImportSummary> {
  validate(config);
  const { connection, logger, signal } = ctl;
  const logLevel = logger.level as LogLevel;
  const started = Date.now();
  const input = await openInput(config.input, { format: config.format, map: config.map });
  const topic = topicNames(connection.topicPrefix).bronze;
  const isFile = config.input !== '-';
  const settings = settingsKey({ format: input.format, map: config.map, timeZone: config.timeZone, topic });
  const progressFile = isFile ? progressPath(config.input) : null;

  // An interrupted import of the same file with the same settings continues where it was.
  let run: ImportRun | null = null;
  let resumeFrom: Checkpoint | null = null;
  let startedOverBecause: string | null = null;
  const identity = isFile ? identify(config.input) : null;
  if (progressFile !== null && identity !== null && !config.dryRun) {
    const check = readProgress(progressFile, identity, settings);
    if (check.kind === 'resume') {
      run = check.progress.run;
      resumeFrom = check.progress.checkpoint;
    } else if (check.kind === 'stale') {
      startedOverBecause = check.why;
    }
  }

  const store = createStateStore();
  const kafka = createKafka(connection, createLogger('import', logLevel, connection.logFormat), {
    connectionTimeoutMs: 3000,
    retries: 2,
  });
  const admin = kafka.admin();
  const registry = createRegistryClient(connection);
  const rejects = openRejects(config.rejectsFile ?? rejectsPath(config.input), resumeFrom?.rejectsBytes ?? 0);
  let sender: Sender | null = null;
  const tally = { acked: 0, failed: 0, unanswered: 0, notSent: 0 };
  let status: ImportSummary['status'] = config.dryRun ? 'planned' : 'completed';
  let error: Error | null = null;
  let bronzeStats: BronzeStateStats = { records: 0, undecodable: 0, bookings: 0, durationMs: 0 };
  const existing = { count: 0, sample: [] as string[] };
  let checkpointTimer: NodeJS.Timeout | undefined;
  const bar = createImportProgress({ mode: ctl.progress ?? 'auto', total: input.size, logger });
  let checkpoint: Checkpoint = resumeFrom ?? { line: 0, counts: emptyCounts(), rejectsBytes: 0 };
  let counts: ImportCounts = { ...checkpoint.counts };

  try {
    const connectTimeoutMs = ctl.connectTimeoutMs ?? 15_000;
    // A dry run changes nothing: no topic is created, no schema registered.
    let bronze: Awaited<ReturnType<typeof prepareBronze>> | null = null;
    if (!config.dryRun) bronze = await prepareBronze(connection, logLevel, connectTimeoutMs);
    if ((await race(admin.connect(), connectTimeoutMs)) === 'timeout') {
      throw new UnavailableError('broker', `cannot reach Kafka at ${connection.brokers.join(',')}`);
    }
    const topicExists = bronze !== null || (await admin.listTopics()).includes(topic);
    if (topicExists) {
      bar.phase('reading bronze');
      bronzeStats = await loadBronzeState({
        kafka,
        admin,
        registry,
        topic,
        groupPrefix: `${connection.topicPrefix}cdc-import`,
        store,
        onProgress: (records, total) => bar.bronze(records, total),
      });
      logger.info({ ...bronzeStats }, 'read what bronze holds per booking');
    }

    run ??= {
      runId: randomBytes(4).toString('hex'),
      seqBase: bronze?.nextSeq ?? 0,
      tsMs: (ctl.clock ?? Date.now)(),
      startedAt: started,
    };
    const theRun = run;
    const tracker = createCheckpointTracker(checkpoint);
    const saveProgress = (): void => {
      const now = tracker.current();
      if (progressFile === null || identity === null || config.dryRun || now.line === checkpoint.line) return;
      checkpoint = now;
      writeProgress(progressFile, { input: identity, settings, run: theRun, checkpoint });
    };

    let retryWarned = false;
    if (bronze !== null) {
      sender = createSender({
        connection,
        topic,
        partitions: bronze.partitions.length,
        lanes: config.producers,
        batchSize: config.batchSize,
        schemaId: bronze.schemaId,
        type: bronze.type,
        kinds: IMPORT_KINDS.length,
        logLevel,
        // A bounded run: it gives up after the producer's default outage (and resumes when run again).
        maxOutageMs: DEFAULT_MAX_OUTAGE_MS,
        events: {
          sent: () => undefined,
          // The lanes resend by themselves (same idempotent producer); said once per import.
          retrying: (reason) => {
            if (!retryWarned)
              logger.warn({ reason }, 'the broker is not answering; the import resends and waits');
            retryWarned = true;
          },
          acked: (c) => {
            tally.acked += c.total;
            tracker.acked(c.lane, c.total);
          },
          failed: (c, err) => {
            tally.failed += c.total;
            error ??= err;
            logger.error({ err, records: c.total }, 'send failed; stopping');
          },
        },
      });
      if ((await race(sender.connect(), connectTimeoutMs)) === 'timeout') {
        throw new UnavailableError(
          'broker',
          `the Kafka producers did not connect within ${connectTimeoutMs} ms`,
        );
      }
      checkpointTimer = setInterval(saveProgress, ctl.checkpointIntervalMs ?? 1000);
      checkpointTimer.unref();
    }

    const parseTimestamp = createTimestampParser(config.timeZone);
    const sourceName = `import:${isFile ? path.basename(config.input) : 'stdin'}`;
    const lanes = Math.max(1, Math.min(config.producers, bronze?.partitions.length ?? 1));
    const highWater = config.batchSize * lanes * 2;
    bar.phase(resumeFrom ? `continuing after line ${resumeFrom.line}` : 'importing');
    const progressTimer = setInterval(() => {
      bar.update({ bytes: input.bytesRead(), counts, acked: tally.acked, inFlight: sender?.inFlight ?? 0 });
    }, bar.intervalMs);
    progressTimer.unref();

    try {
      for await (const entries of input.batches(config.batchSize, checkpoint.line)) {
        if (signal?.aborted) {
          status = 'stopped';
          break;
        }
        if (sender?.failure) break;
        const block = emptyCounts();
        const rows = parseEntries(entries, parseTimestamp, rejects, block);
        // What bronze (or an earlier row) holds for these bookings, in one look-up (block.ts).
        const known = store.getMany(rows.map((r) => r.booking.booking_id));
        const { changes, updates } = decideRows(rows, known, theRun, sourceName, block, existing);
        store.batch(() => store.setMany([...updates]));
        rejects.flush();
        counts = { ...counts };
        for (const k of Object.keys(block) as (keyof ImportCounts)[]) counts[k] += block[k];
        const id = tracker.open(entries[entries.length - 1]!.line, block, rejects.bytes);
        if (sender !== null) {
          for (const c of changes) tracker.pushed(id, sender.push(c.key, c.change, c.kind));
          sender.kick();
        }
        tracker.seal(id);
        while (sender !== null && sender.queued >= highWater && sender.failure === null) {
          sender.kick();
          if ((await race(sender.nextCompletion(), Infinity, signal)) === 'aborted') break;
        }
        await yieldToIo();
      }
    } finally {
      clearInterval(progressTimer);
    }

    if (sender !== null) {
      const end = await finishSending(sender, {
        completed: status === 'completed',
        signal,
        drainTimeoutMs: ctl.drainTimeoutMs ?? 30_000,
        logger,
      });
      if (end.stopped) status = 'stopped';
      tally.notSent = end.notSent;
      tally.unanswered = end.unanswered;
      if (end.failed) status = 'failed';
      saveProgress();
    }
    if (status === 'completed' && progressFile !== null) removeProgress(progressFile);
    if (status === 'stopped' || status === 'failed') counts = tracker.current().counts;
  } catch (err) {
    status = 'failed';
    throw err;
  } finally {
    clearInterval(checkpointTimer);
    bar.stop({ bytes: input.bytesRead(), counts, acked: tally.acked, inFlight: 0 });
    input.close();
    rejects.close();
    store.close();
    await sender?.close(tally.unanswered > 0 ? 0 : 10_000);
    await admin.disconnect().catch(() => undefined);
  }

  const durationMs = Date.now() - started;
  const summary: ImportSummary = {
    status,
    input: config.input,
    format: input.format,
    topic,
    counts,
    acknowledged: tally.acked,
    failed: tally.failed,
    unanswered: tally.unanswered,
    notSent: tally.notSent,
    resumedAfterLine: resumeFrom?.line ?? null,
    startedOverBecause,
    bronze: bronzeStats,
    existing,
    ignoredColumns: input.binding.ignored,
    rejectsFile: counts.rejected > 0 ? rejects.path : null,
    progressFile: status === 'stopped' || status === 'failed' ? progressFile : null,
    durationMs,
    rowsPerSec: durationMs > 0 ? ((counts.rows - (resumeFrom?.counts.rows ?? 0)) * 1000) / durationMs : 0,
  };
  const failure = error ?? sender?.failure ?? null;
  if (failure) summary.error = errorMessage(failure);
  logger.info({ ...summary, existing: summary.existing.count }, `import ${status}`);
  return summary;
}
