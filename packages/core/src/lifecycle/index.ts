export * from './outage';
export * from './retry';
export * from './consumer';
export * from './offset-commits';
