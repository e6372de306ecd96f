export * from './outage';
export * from './retry';
export * from './shutdown';
export * from './offset-commits';
