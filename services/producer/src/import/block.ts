import type { BookingChange } from '@cdc/core';
import type { ImportCounts } from './checkpoint';
import { decide } from './decide';
import { entryText, type InputEntry } from './input';
import type { ImportRun } from './progress-file';
import type { RejectsFile } from './rejects';
import { parseRow, type ImportedBooking } from './rows';
import type { BookingState } from './state-store';
import type { TimestampParser } from './timestamps';

/**
 * One batch of input rows of `cdc import` (run-import.ts) made into snapshot reads: each row
 * parsed (a bad one goes to the rejects file), then decided against what bronze, or an earlier
 * row, holds for its booking (decide.ts): identical rows are skipped, the others become changes
 * to send and the bookings' new state. No Kafka and no state store here: the caller looks the
 * bookings up, stores the new state and sends the changes.
 */

/** Kinds of import change, as the sender counts them (the index into IMPORT_KINDS). */
const KIND = { new: 0, changed: 1, recreated: 2 } as const;
/** Booking ids already in bronze named in the summary. */
const EXISTING_SAMPLE = 20;

export interface ParsedRow {
  line: number;
  booking: ImportedBooking;
}

export interface BlockChange {
  key: string;
  change: BookingChange;
  kind: number;
}

/** Bookings found already in bronze: how many, and the first few ids. */
export interface ExistingBookings {
  count: number;
  sample: string[];
}

/** Parses the batch's entries; rejected ones go to `rejects`. Counts rows, rejects and total mismatches into `block`. */
export function parseEntries(
  entries: InputEntry[],
  parseTimestamp: TimestampParser,
  rejects: Pick<RejectsFile, 'add'>,
  block: ImportCounts,
): ParsedRow[] {
  const rows: ParsedRow[] = [];
  for (const e of entries) {
    block.rows++;
    const parsed = e.read ? parseRow(e.read, parseTimestamp) : { ok: false as const, reason: e.reject! };
    if (!parsed.ok) {
      block.rejected++;
      rejects.add(e.line, parsed.reason, entryText(e));
      continue;
    }
    if (parsed.totalMismatch) block.totalMismatches++;
    rows.push({ line: e.line, booking: parsed.booking });
  }
  return rows;
}

/**
 * Decides the batch's rows against `known` (what bronze or an earlier row holds per booking); rows
 * of this batch that repeat a booking see the batch's own newer state. Counts the decisions into
 * `block` and the bookings already in bronze into `existing`; returns the changes to send and the
 * bookings' new state.
 */
export function decideRows(
  rows: ParsedRow[],
  known: Map<string, BookingState>,
  run: ImportRun,
  sourceName: string,
  block: ImportCounts,
  existing: ExistingBookings,
): { changes: BlockChange[]; updates: Map<string, BookingState> } {
  const changes: BlockChange[] = [];
  const updates = new Map<string, BookingState>();
  for (const { line, booking } of rows) {
    const id = booking.booking_id;
    const before = updates.get(id) ?? known.get(id);
    if (before?.inBronze && !updates.has(id) && existing.count++ < EXISTING_SAMPLE) existing.sample.push(id);
    const d = decide(booking, before);
    if (d.kind === 'identical') {
      block.unchanged++;
      continue;
    }
    if (d.kind === 'new') block.created++;
    else if (d.kind === 'changed') block.updated++;
    else block.recreated++;
    updates.set(id, {
      version: d.after.version,
      deleted: false,
      inBronze: before?.inBronze ?? false,
      image: d.after, // with its version: stored without a copy
    });
    changes.push({
      key: id,
      kind: KIND[d.kind],
      change: {
        event_id: `import-${run.runId}-${line}`,
        op: d.op,
        before: d.before,
        after: d.after,
        ts_ms: run.tsMs,
        source: { name: sourceName, seq: run.seqBase + line },
      },
    });
  }
  return { changes, updates };
}
