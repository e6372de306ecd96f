export * from './stack';
export * from './versions';
export { isPortOpen } from './proc';
export { distributionsFetched, ensureDistributions } from './fetch';
export * from './source-stack';
export { connectTopics, ensureConnectDistribution } from './connect-node';
export {
  STACK_DATABASE,
  STACK_DB_USER,
  STACK_DB_PASSWORD,
  POSTGRES_SERVER_SETTINGS,
  SOURCE_TABLE_DDL,
  stackDatabaseUrl,
} from './postgres-node';
