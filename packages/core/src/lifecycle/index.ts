export * from './outage';
export * from './retry';
export * from './shutdown';
export * from './consumer';
export * from './offset-commits';
