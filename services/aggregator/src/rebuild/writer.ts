import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { CdcError, workerScript } from '@cdc/core';
import { bookingValues, type StoredBooking } from '@cdc/read-model';
import type { FromWriter, ToWriter, WriterData, WriterFinish } from './writer-worker';

/**
 * The main thread's side of the rebuild's writer thread (writer-worker.ts): final rows
 * are sent in chunks while they are produced, so decoding and writing overlap.
 */
export interface TempWriter {
  /** Queues one final row (booking_id order). */
  write(row: StoredBooking): void;
  /** Sends the rest and the KPIs; resolves when the file is complete and closed. */
  finish(f: WriterFinish): Promise<{ movies: number }>;
  /** Stops the thread without completing the file (the caller removes it). */
  abort(): Promise<void>;
}

const ROWS_PER_MESSAGE = 2000;

export function startTempWriter(file: string): TempWriter {
  const data: WriterData = { file };
  const worker = new Worker(workerScript(path.dirname(__dirname), 'rebuild/writer-worker'), {
    workerData: data,
  });
  let rows: unknown[][] = [];
  const send = (m: ToWriter) => worker.postMessage(m);
  const flush = () => {
    if (rows.length === 0) return;
    send({ type: 'rows', rows });
    rows = [];
  };
  const outcome = new Promise<{ movies: number }>((resolve, reject) => {
    worker.on('message', (m: FromWriter) => {
      if (m.type === 'done') resolve({ movies: m.movies });
      else
        reject(new CdcError('DEPENDENCY_FAILED', `rebuild: writing the rebuilt database failed: ${m.error}`));
    });
    worker.on('error', reject);
    worker.on('exit', (code) =>
      reject(new CdcError('INTERNAL', `rebuild: the writer thread exited (code ${code})`)),
    );
  });
  // Until finish() is awaited, a failure is only remembered.
  outcome.catch(() => undefined);
  return {
    write(row) {
      rows.push(bookingValues(row));
      if (rows.length >= ROWS_PER_MESSAGE) flush();
    },
    async finish(f) {
      flush();
      send({ type: 'finish', ...f });
      return outcome;
    },
    async abort() {
      await worker.terminate();
    },
  };
}
