export * from './db-schema';
export * from './kpi';
export * from './apply';
export * from './store';
export * from './random-stream';
