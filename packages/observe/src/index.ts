export * from './lag';
export * from './dead-letters';
export * from './ops-server';
export * from './shutdown';
