import type { EachBatchPayload } from 'kafkajs';
import { DecodeError, type Decoder, type EnrichedBookingChange, type Logger } from '@cdc/core';
import type { FetchBatches } from './fetch-batches';

const LOGGED_DECODE_ERRORS_PER_BATCH = 5;

/**
 * The aggregator consumer's `eachBatch` (service.ts): decodes one partition's fetched silver
 * records into the fetch's open batch (fetch-batches.ts), which commits once the fetch's last
 * batch is in. An undecodable record is skipped (its offset is consumed, a few per batch are
 * logged); a registry that cannot be reached throws, so kafkajs fetches the records again.
 */
export function createEachBatch(
  decoder: Decoder<EnrichedBookingChange>,
  fetchBatches: FetchBatches,
  log: Logger,
): (payload: EachBatchPayload) => Promise<void> {
  return async function eachBatch(payload: EachBatchPayload): Promise<void> {
    // kafkajs builds these as closures over the batch, not as methods: destructuring them is safe.
    // eslint-disable-next-line @typescript-eslint/unbound-method
    const { batch, resolveOffset, heartbeat, isRunning, isStale } = payload;
    if (!isRunning() || isStale()) {
      fetchBatches.skipped();
      return;
    }
    const open = fetchBatches.begin(batch.partition);
    try {
      let logged = 0;
      for (const m of batch.messages) {
        let change: EnrichedBookingChange | null = null;
        try {
          change = decoder.decodeKnown(m.value) ?? (await decoder.decode(m.value));
        } catch (err) {
          if (!(err instanceof DecodeError)) throw err; // registry unreachable: retried, never skipped
          if (logged++ < LOGGED_DECODE_ERRORS_PER_BATCH) {
            log.warn(
              { partition: batch.partition, offset: m.offset, code: err.code, err: err.message },
              'undecodable silver record skipped',
            );
          }
        }
        if (!fetchBatches.isOpen(open)) return; // abandoned during a decode's wait (a rejoin)
        open.add(batch.partition, Number(m.offset), change);
      }
    } catch (err) {
      fetchBatches.abandon();
      throw err;
    }
    // Commits when this was the fetch's last batch (throws, having abandoned it, if that fails).
    fetchBatches.end(open, batch.partition, Number(batch.lastOffset()) + 1, Number(batch.highWatermark), () =>
      resolveOffset(batch.lastOffset()),
    );
    await heartbeat();
  };
}
