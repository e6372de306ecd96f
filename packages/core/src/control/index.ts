export * from './state';
export * from './client';
export * from './progress';
