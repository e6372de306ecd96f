/**
 * @cdc/testing: what the tests and benchmarks share, and nothing a product needs. A devDependency
 * only: no package's `src` imports it.
 */
export * from './context';
export * from './read';
export * from './seed';
export * from './changes';
export * from './disorder';
export * from './enriched';
export * from './backfills';
export * from './bronze';
export * from './cdc-process';
export * from './fault-stack';
export * from './source-database';
export * from './kpi-oracle';
