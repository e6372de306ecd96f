export * from './kpi';
export * from './apply';
export * from './live-rows';
export * from './batch';
export * from './store';
export * from './config';
export * from './lock';
export * from './metrics';
export * from './gold';
export * from './service';
// The folder's index, named: a stale dist/rebuild.js of an older build must not shadow it.
export * from './rebuild/index';
