export * from './db-schema';
