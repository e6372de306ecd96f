import {
  createDecoder,
  createRegistryClient,
  DecodeError,
  loadSchema,
  type Decoder,
  type EnrichedBookingChange,
  type Logger,
} from '@cdc/core';
import type { AggregatorConfig } from './config';
import { ReplayApplier } from './replay';
import { replayHeadType, type ReplayHead } from './replay-head';
import { readSilverToEnd, type ReadProgress, type ReadResult, type RecordHandler } from './rebuild-read';

/**
 * A rebuild's first half: silver read to the end and replayed in memory (`ReplayApplier`).
 *
 * - `heads` (the normal way): only each change's head is decoded (replay-head.ts) and the bytes
 *   are kept; the full change is decoded for the final row of each booking only, by `finishEach`.
 * - `full`: every change decoded in full. The fallback for the rare record whose head decodes
 *   and whose full change does not (e.g. a long beyond 2^53 in a field the head skips): the live
 *   path skips such a record, so the rebuild must too, and only a full decode can tell.
 *
 * Undecodable records are counted, logged and skipped (as the live path does).
 */
export type ReplayMode = 'heads' | 'full';

export interface Replayed {
  /** The final rows, one by one, then the KPIs (ReplayApplier.finishEach). */
  applier: ReplayApplier;
  read: ReadResult;
  undecodable: number;
}

export async function replaySilver(
  mode: ReplayMode,
  config: AggregatorConfig,
  log: Logger,
  options: { started?: number; onProgress?: (p: ReadProgress) => void } = {},
): Promise<Replayed> {
  const registry = createRegistryClient(config.connection.registryUrl);
  const full = createDecoder<EnrichedBookingChange>(registry, loadSchema('EnrichedBookingChange').type);
  // The arena holds copies of the values: a view would keep the whole fetched batch alive.
  const applier = new ReplayApplier((bytes) => {
    const change = full.decodeKnown(bytes);
    if (change === undefined) throw new DecodeError('UNKNOWN_SCHEMA_ID', 'the writer schema is not resolved');
    return change;
  });
  if (mode === 'full') return replayWith(config, log, options, full, applier);
  const heads = createDecoder<ReplayHead>(registry, replayHeadType());
  return replayWith(config, log, options, heads, applier, async (value) => {
    // The first record of each writer schema also resolves it for the full decoder (finishEach
    // decodes synchronously); whether this record decodes in full is finishEach's question.
    await full.decode(value).catch((err: unknown) => {
      if (!(err instanceof DecodeError)) throw err;
    });
  });
}

async function replayWith(
  config: AggregatorConfig,
  log: Logger,
  options: { started?: number; onProgress?: (p: ReadProgress) => void },
  decoder: Decoder<ReplayHead>,
  applier: ReplayApplier,
  firstOfSchema?: (value: Buffer) => Promise<void>,
): Promise<Replayed> {
  let undecodable = 0;
  const skip = (err: unknown, partition: number, offset: number) => {
    if (!(err instanceof DecodeError)) throw err;
    undecodable += 1;
    log.warn({ partition, offset, code: err.code }, 'undecodable record skipped');
  };
  const slow = async (value: Buffer | null, partition: number, offset: number) => {
    try {
      const head = await decoder.decode(value);
      await firstOfSchema?.(value as Buffer);
      applier.apply(head, value as Buffer);
    } catch (err) {
      skip(err, partition, offset);
    }
  };
  const handle: RecordHandler = (value, partition, offset) => {
    try {
      const head = decoder.decodeKnown(value);
      if (head === undefined) return slow(value, partition, offset);
      applier.apply(head, value as Buffer);
    } catch (err) {
      skip(err, partition, offset);
    }
    return undefined;
  };
  const read = await readSilverToEnd(config, log, handle, options);
  return { applier, read, undecodable };
}
