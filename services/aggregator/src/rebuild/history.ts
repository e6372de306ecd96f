import { createKafka, deletedHistory, UsageError, withAdmin, type Logger } from '@cdc/core';
import type { AggregatorConfig } from '../config';

/**
 * A rebuild replays silver from its earliest offset, so it can only be as complete as the history
 * silver still holds. Before anything is read, offsets deleted at the head of silver (retention,
 * deleteRecords) refuse the rebuild, saying how much is gone and how old what is left is, unless
 * a partial rebuild is asked for (`--allow-partial`). Returns the offsets gone (0: complete).
 */
export async function checkSilverHistory(
  config: AggregatorConfig,
  log: Logger,
  allowPartial: boolean,
): Promise<number> {
  const topic = config.topics.silver;
  const kafka = createKafka(config.connection, log);
  const gone = await withAdmin(kafka, (admin) =>
    deletedHistory(kafka, admin, topic, `${config.groupId}.rebuild`),
  );
  if (gone.offsetsGone === 0) return 0;
  const oldest =
    gone.oldestRemainingMs === null ? 'none (it is empty)' : new Date(gone.oldestRemainingMs).toISOString();
  const perPartition = gone.partitions
    .filter((p) => p.earliest > 0)
    .map((p) => `partition ${p.partition}: ${p.earliest}`)
    .join(', ');
  const what =
    `${topic} no longer holds its first ${gone.offsetsGone} offsets (${perPartition}; deleted by retention ` +
    `or deleteRecords); the oldest record still there is from ${oldest}`;
  if (!allowPartial) {
    throw new UsageError(
      `${what}. A rebuild would lose every booking whose changes are gone. To rebuild from what is left, ` +
        'add --allow-partial',
    );
  }
  log.warn({ topic, offsetsGone: gone.offsetsGone, oldestRemaining: oldest }, `partial rebuild: ${what}`);
  return gone.offsetsGone;
}
