import {
  CdcError,
  createDecoder,
  createRegistryClient,
  DecodeError,
  loadSchema,
  type EnrichedBookingChange,
  type Logger,
} from '@cdc/core';
import type { AggregatorConfig } from '../config';
import { ReplayApplier } from './replay-rows';
import { replayHeadType, type ReplayHead } from './replay-head';
import { readSilverToEnd, type ReadProgress, type ReadResult, type RecordHandler } from './read';

/**
 * A rebuild's first half: silver read to the end and replayed in memory (`ReplayApplier`, replay-rows.ts). Only
 * each change's head is decoded (replay-head.ts) and its bytes kept; the full change is decoded
 * for the final row of each booking only, by `finishEach`. The head decoder is as strict as a full
 * decode (`asStrictAs`): a record is undecodable here exactly when the live path finds it
 * undecodable, and is then counted, logged and skipped as there.
 */
export interface Replayed {
  /** The final rows, one by one, then the KPIs (ReplayApplier.finishEach). */
  applier: ReplayApplier;
  read: ReadResult;
  undecodable: number;
}

export async function replaySilver(
  config: AggregatorConfig,
  log: Logger,
  options: { started?: number; onProgress?: (p: ReadProgress) => void } = {},
): Promise<Replayed> {
  const registry = createRegistryClient(config.connection);
  const fullType = loadSchema('EnrichedBookingChange').type;
  const full = createDecoder<EnrichedBookingChange>(registry, fullType);
  const heads = createDecoder<ReplayHead>(registry, replayHeadType(), { asStrictAs: fullType });
  // The arena holds copies of the values: a view would keep the whole fetched batch alive.
  const applier = new ReplayApplier((bytes) => {
    try {
      const change = full.decodeKnown(bytes);
      if (change !== undefined) return change;
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
    }
    throw new CdcError(
      'INTERNAL',
      'a change whose head decoded does not decode in full (a bug: they must agree)',
    );
  });
  let undecodable = 0;
  const skip = (err: unknown, partition: number, offset: number) => {
    if (!(err instanceof DecodeError)) throw err;
    undecodable += 1;
    log.warn({ partition, offset, code: err.code }, 'undecodable record skipped');
  };
  const slow = async (value: Buffer | null, partition: number, offset: number) => {
    try {
      const head = await heads.decode(value);
      // The first record of each writer schema also resolves it for the full decoder, which
      // `finishEach` uses synchronously.
      await full.decode(value);
      applier.apply(head, value as Buffer);
    } catch (err) {
      skip(err, partition, offset);
    }
  };
  const handle: RecordHandler = (value, partition, offset) => {
    try {
      const head = heads.decodeKnown(value);
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
