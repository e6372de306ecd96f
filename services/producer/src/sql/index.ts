/** `cdc produce --to postgres`: the producer's traffic as SQL on the source table. */
export { runToPostgres, type SqlRunControls } from './sql-producer';
export { parseSqlProduceArgs, DEFAULT_MAX_TRANSACTION_CHANGES, type SqlProduceConfig } from './sql-config';
export { formatSqlSummary, type SqlProduceSummary } from './sql-summary';
export { createSqlProducerMetrics, type SqlProducerMetrics } from './sql-metrics';
export { centsToNumeric, changeStatement, createTransactionSizes } from './statements';
export type { SqlTarget } from './sql-writer';
