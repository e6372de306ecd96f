/**
 * @cdc/testing: what the tests and benchmarks share, and nothing a product needs. A devDependency
 * only: no package's `src` imports it.
 */
export * from './context';
