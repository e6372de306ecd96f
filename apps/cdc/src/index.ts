export { buildProgram, main } from './main';
export { STATUS_JSON_SCHEMA, verdict, type StatusReport } from './status/report';
export * from './metrics-doc';
