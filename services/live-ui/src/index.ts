export * from './config';
export * from './csv';
export * from './gold-state';
export * from './protocol';
export * from './query';
export * from './service';
export * from './version-log';
export { WS_PATH } from './ws-hub';
export * from './api-tokens';
