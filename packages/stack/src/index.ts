export * from './stack';
export * from './versions';
export { isPortOpen } from './proc';
export { ensureDistributions } from './fetch';
