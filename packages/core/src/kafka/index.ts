// The Kafka edge: the only folder that imports kafkajs (test/unit/import-cycles.test.ts checks it).
export * from './types';
export * from './client';
export * from './client-log';
export * from './errors';
export * from './consumer';
export * from './producer';
export * from './transaction';
export * from './partitioner';
export * from './commit-metadata';
export * from './ensure-topics';
export * from './topic-configs';
export * from './retention';
export * from './read-range';
export * from './offsets';
export * from './fetch-batches';
export * from './groups';
export * from './acls';
