/**
 * @cdc/observe: what every observer of the pipeline needs, in one place — consumer lag and
 * dead-letter counts (the dashboard's health, the alerts probe, `cdc status`, the benchmarks),
 * progress reporting for long commands, and a service's lifecycle: its ops server (/healthz,
 * /metrics), its cleanups and its shutdown.
 */
export * from './lag';
export * from './dead-letters';
export * from './ops-server';
export * from './shutdown';
export * from './cleanups';
export * from './progress';
