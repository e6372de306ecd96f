import { z } from 'zod';
import { UsageError } from '@cdc/core';
import { parseProduceArgs, type ProduceConfig } from '../config';
import { FLAGS, type ProduceArgs } from '../options';

/**
 * `cdc produce --to postgres`: the same options as to Kafka (the same generated traffic and
 * scenarios, --rate, --count / --duration, --seed), less the Kafka producer's own, plus how many
 * changes a transaction holds at most.
 */
export interface SqlProduceConfig extends ProduceConfig {
  /** Each transaction holds 1 to this many consecutive changes (drawn from the seed). */
  maxTransactionChanges: number;
}

export const DEFAULT_MAX_TRANSACTION_CHANGES = 5;

/**
 * Options of the Kafka producer that mean nothing for the database: its request size and producer
 * count, its outage wait (a database that goes away ends the run, saying what was committed), and
 * --time-scale (the database stamps each change with its commit time, the time the pipeline
 * validates booking dates against, so event time cannot run ahead of the clock).
 */
const KAFKA_ONLY: (keyof ProduceArgs)[] = ['batchSize', 'producers', 'maxOutage', 'timeScale'];

const maxTransaction = z
  .string()
  .trim()
  .regex(/^\d+$/, 'must be a whole number from 1 to 1000')
  .transform(Number)
  .pipe(z.number().min(1, 'must be at least 1').max(1000, 'must be at most 1000'));

export function parseSqlProduceArgs(
  args: ProduceArgs & { maxTransaction?: string },
  nowMs = Date.now(),
): SqlProduceConfig {
  const { maxTransaction: maxText, ...produceArgs } = args;
  const clash = KAFKA_ONLY.find((k) => produceArgs[k] !== undefined);
  if (clash)
    throw new UsageError(`${FLAGS[clash]} applies to Kafka only: it cannot be combined with --to postgres`);
  let maxTransactionChanges = DEFAULT_MAX_TRANSACTION_CHANGES;
  if (maxText !== undefined) {
    const r = maxTransaction.safeParse(maxText);
    if (!r.success)
      throw new UsageError(
        `--max-transaction ${r.error.issues[0]?.message ?? 'is invalid'} (got '${maxText}')`,
      );
    maxTransactionChanges = r.data;
  }
  return { ...parseProduceArgs(produceArgs, nowMs), maxTransactionChanges };
}
