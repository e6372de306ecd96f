/** The alerts service: rules over gold and the pipeline's offsets; alerts to a topic and webhooks. */
export * from './config';
export * from './duration';
export * from './rules/schema';
export * from './rules/types';
export * from './rules/load';
export * from './engine/series';
export * from './engine/evaluate';
export * from './engine/lifecycle';
export * from './engine/state';
export * from './engine/engine';
export * from './engine/record';
export * from './store';
export * from './webhook';
export * from './alertmanager';
export * from './service';
export * from './metrics';
