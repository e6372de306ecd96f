export * from './stack';
export * from './versions';
export { isPortOpen } from './proc';
export { distributionsFetched, ensureDistributions } from './fetch';
export * from './source-stack';
export { DEBEZIUM_VERSION, connectTopics, ensureConnectDistribution } from './connect-node';
export { STACK_DATABASE, SOURCE_TABLE_DDL, stackDatabaseUrl } from './postgres-node';
