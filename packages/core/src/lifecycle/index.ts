export * from './outage';
export * from './retry';
export * from './offset-commits';
