import { createReadStream, statSync, type ReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { Parser, type CsvError } from 'csv-parse';
import { CdcError, errorMessage, UsageError } from '@cdc/core';
import { bindColumns, type ColumnBinding, type ColumnMap, type ImportField } from './columns';
import { isNullToken, type FieldReader } from './rows';

/**
 * The input, streamed: a CSV file with a header (csv-parse) or JSON Lines, from a path or stdin
 * (`-`). Nothing is held beyond the current batch, so a file larger than memory imports. Entries
 * come in input order, each with its line number: a row to read fields from, or a line that could
 * not be parsed (with the reason). Input that cannot be imported at all — no such file, an empty
 * file, a header without the required columns — is a UsageError (exit 2) before anything is sent.
 */
export type InputFormat = 'csv' | 'jsonl';

export interface InputEntry {
  /** 1-based line number (where the row ends, for a CSV field spanning lines). */
  line: number;
  read?: FieldReader;
  reject?: string;
  /** The row as written, for the rejects file (when known). */
  raw?: string;
  /** A CSV row's fields (its text for the rejects file is made from them only when rejected). */
  record?: string[];
}

export interface Input {
  format: InputFormat;
  /** The header's columns (CSV) or the first object's keys (JSON Lines). */
  header: string[];
  binding: ColumnBinding;
  /** Size in bytes, when the input is a file. */
  size: number | null;
  /** Bytes read so far. */
  bytesRead(): number;
  /** Entries in input order, in batches of at most `size`; lines ≤ `afterLine` are left out. */
  batches(size: number, afterLine?: number): AsyncGenerator<InputEntry[]>;
  close(): void;
}

export function detectFormat(path: string, explicit?: string): InputFormat | undefined {
  if (explicit !== undefined) {
    if (explicit === 'csv' || explicit === 'jsonl') return explicit;
    throw new UsageError(`--format must be csv or jsonl, got '${explicit}'`);
  }
  if (/\.(jsonl|ndjson|json)$/i.test(path)) return 'jsonl';
  if (/\.(csv|txt)$/i.test(path)) return 'csv';
  return undefined;
}

function openStream(path: string): { stream: Readable; size: number | null; name: string } {
  if (path === '-') return { stream: process.stdin, size: null, name: 'stdin' };
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new UsageError(`${path} is not a file`);
    size = st.size;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(
      `cannot read ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`,
    );
  }
  if (size === 0) throw new UsageError(`${path} is empty: nothing to import`);
  const stream: ReadStream = createReadStream(path, { highWaterMark: 1 << 20 });
  return { stream, size, name: path };
}

/** Reads objects from an object-mode stream in batches (a partial batch when nothing more is ready yet). */
async function* objectBatches<T>(stream: Readable, size: number): AsyncGenerator<T[]> {
  let ended = false;
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  const notify = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  stream.on('readable', notify);
  stream.once('end', () => {
    ended = true;
    notify();
  });
  stream.once('error', (err) => {
    failure = err;
    notify();
  });
  for (;;) {
    // Set by the 'error' listener while this loop awaits (hence the widening cast).
    const err = failure as Error | null;
    if (err)
      throw new CdcError('INVALID_INPUT', `reading the input failed: ${errorMessage(err)}`, {
        cause: err,
      });
    const batch: T[] = [];
    let item: T | null;
    while (batch.length < size && (item = stream.read() as T | null) !== null) batch.push(item);
    if (batch.length > 0) {
      yield batch;
      continue;
    }
    if (ended) return;
    await new Promise<void>((resolve) => {
      wake = resolve;
    });
  }
}

const countBytes = (stream: Readable): (() => number) => {
  let n = 0;
  stream.on('data', (d: Buffer) => (n += d.length));
  return () => n;
};

function csvReader(record: string[], index: ColumnBinding['index']): FieldReader {
  return (field: ImportField) => {
    const i = index[field];
    if (i === undefined) return undefined;
    const v = record[i];
    return v === undefined || isNullToken(v) ? null : v.trim();
  };
}

interface CsvRow {
  record: string[];
  /** The line the record ends on. */
  line: number;
}

/**
 * csv-parse's stream, each record tagged with the line it ends on: `parser.info.lines` at the
 * moment the parser pushes it, the same number its `info: true` option reports. That option builds
 * an info object per record with two object spreads (5 % of an import's CPU and much of its
 * garbage); this keeps one small object per record.
 */
class LineTaggingParser extends Parser {
  override push(record: unknown, encoding?: BufferEncoding): boolean {
    return super.push(record === null ? null : { record, line: this.info.lines }, encoding);
  }
}

/** A parsed row written back as CSV (for the rejects file; the parser keeps no raw text, which would cost every row). */
const csvLine = (record: string[]): string =>
  record.map((v) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v)).join(',');

async function openCsv(path: string, map: ColumnMap): Promise<Input> {
  const { stream, size, name } = openStream(path);
  const bytesRead = countBytes(stream);
  const parser = new LineTaggingParser({
    bom: true,
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
  });
  const skipped: InputEntry[] = [];
  parser.on('skip', (err: CsvError & { lines?: number }) => {
    skipped.push({ line: err.lines ?? 0, reject: `not valid CSV: ${err.message}` });
  });
  stream.once('error', (err) => parser.destroy(err));
  stream.pipe(parser);
  const rows = objectBatches<CsvRow>(parser, 1);
  const first = await rows.next();
  if (first.done) throw new UsageError(`${name} has no header line: nothing to import`);
  const headerRow = first.value[0]!;
  const header = headerRow.record.map((c) => c.trim());
  const binding = bindColumns(header, map, name);
  const { index, width } = binding;

  return {
    format: 'csv',
    header,
    binding,
    size,
    bytesRead,
    async *batches(batchSize, afterLine = 0) {
      const after = Math.max(afterLine, headerRow.line);
      for await (const got of objectBatches<CsvRow>(parser, batchSize)) {
        const out: InputEntry[] = [];
        const last = got[got.length - 1]!.line;
        // Parse errors are reported by an event, possibly before rows parsed ahead of them are
        // read from the stream: keep entries in line order.
        while (skipped.length > 0 && skipped[0]!.line < last) out.push(skipped.shift()!);
        for (const r of got) {
          if (r.record.length !== width) {
            out.push({
              line: r.line,
              raw: csvLine(r.record),
              reject: `has ${r.record.length} column${r.record.length === 1 ? '' : 's'}, the header has ${width}`,
            });
          } else {
            out.push({ line: r.line, record: r.record, read: csvReader(r.record, index) });
          }
        }
        out.sort((a, b) => a.line - b.line);
        const kept = out.filter((e) => e.line > after);
        if (kept.length > 0) yield kept;
      }
      const rest = skipped.splice(0).filter((e) => e.line > after);
      if (rest.length > 0) yield rest;
    },
    close: () => {
      stream.unpipe(parser);
      if (stream !== process.stdin) stream.destroy();
      parser.destroy();
    },
  };
}

/** JSON Lines: split on \n ourselves (exact line numbers), one object per non-blank line. */
async function* lines(stream: Readable): AsyncGenerator<{ line: number; text: string }> {
  let rest = '';
  let line = 0;
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    const text = rest + chunk.toString();
    const parts = text.split('\n');
    rest = parts.pop()!;
    for (const p of parts) yield { line: ++line, text: p.replace(/\r$/, '') };
  }
  if (rest !== '') yield { line: ++line, text: rest.replace(/\r$/, '') };
}

function jsonReader(value: Record<string, unknown>, keys: Partial<Record<ImportField, string>>): FieldReader {
  const byName = new Map<string, unknown>();
  for (const [k, v] of Object.entries(value)) byName.set(k.trim().toLowerCase(), v);
  return (field) => {
    const key = keys[field];
    if (key === undefined) return undefined;
    const v = byName.get(key);
    if (v === undefined || v === null) return null;
    // A JSON number is read through its shortest decimal form (15.1 → "15.1"), exact for any
    // price with up to 15 significant digits: no arithmetic on the float.
    const s =
      typeof v === 'string'
        ? v
        : typeof v === 'number' || typeof v === 'boolean'
          ? String(v)
          : JSON.stringify(v);
    return isNullToken(s) ? null : s.trim();
  };
}

function parseJsonLine(text: string): { value: Record<string, unknown> } | { reject: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { reject: `not valid JSON: ${(err as Error).message}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { reject: 'not a JSON object' };
  }
  return { value: value as Record<string, unknown> };
}

async function openJsonl(path: string, map: ColumnMap): Promise<Input> {
  const { stream, size, name } = openStream(path);
  const bytesRead = countBytes(stream);
  const it = lines(stream);
  let first: { line: number; text: string } | undefined;
  for (;;) {
    const n = await it.next();
    if (n.done) throw new UsageError(`${name} has no JSON lines: nothing to import`);
    if (n.value.text.trim() !== '') {
      first = n.value;
      break;
    }
  }
  const parsed = parseJsonLine(first.text);
  if ('reject' in parsed) throw new UsageError(`${name}, line ${first.line}: ${parsed.reject}`);
  const header = Object.keys(parsed.value).map((k) => k.trim());
  const binding = bindColumns(header, map, name);
  const keys: Partial<Record<ImportField, string>> = {};
  for (const [field, i] of Object.entries(binding.index))
    keys[field as ImportField] = header[i]!.toLowerCase();
  const firstEntry = first;

  return {
    format: 'jsonl',
    header,
    binding,
    size,
    bytesRead,
    async *batches(batchSize, afterLine = 0) {
      let out: InputEntry[] = [];
      const push = (l: { line: number; text: string }) => {
        if (l.line <= afterLine || l.text.trim() === '') return;
        const p = parseJsonLine(l.text);
        out.push(
          'reject' in p
            ? { line: l.line, raw: l.text, reject: p.reject }
            : { line: l.line, raw: l.text, read: jsonReader(p.value, keys) },
        );
      };
      push(firstEntry);
      for await (const l of it) {
        push(l);
        if (out.length >= batchSize) {
          yield out;
          out = [];
        }
      }
      if (out.length > 0) yield out;
    },
    close: () => {
      if (stream !== process.stdin) stream.destroy();
    },
  };
}

/** The text of an entry for the rejects file. */
export const entryText = (e: InputEntry): string | undefined =>
  e.raw ?? (e.record ? csvLine(e.record) : undefined);

export async function openInput(path: string, o: { format?: string; map: ColumnMap }): Promise<Input> {
  const format = detectFormat(path, o.format);
  if (format === 'jsonl') return openJsonl(path, o.map);
  if (format === 'csv' || path === '-') return openCsv(path, o.map);
  throw new UsageError(`cannot tell the format of ${path} from its name: add --format csv or --format jsonl`);
}
