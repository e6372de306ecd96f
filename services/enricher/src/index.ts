export * from './derive';
export * from './local-time';
