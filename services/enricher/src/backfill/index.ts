export * from './plan';
export * from './inspect';
export * from './switch';
export * from './run';
export * from './backfill';
export * from './status';
