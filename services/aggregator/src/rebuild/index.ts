export * from './rebuild';
export * from './replay-rows';
export * from './replay-head';
export * from './arena';
