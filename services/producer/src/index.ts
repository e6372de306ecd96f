/** The producer: realistic booking changes (or a named scenario) to the bronze topic. */
export { runProducer, type RunControls } from './service';
export { DEFAULT_PARTITIONS } from './connect';
export { parseMix, FLAGS, type ProduceArgs } from './options';
export {
  parseProduceArgs,
  DEFAULT_OPS_PORT,
  DEFAULT_RATE_PER_SEC,
  DEFAULT_BATCH_SIZE,
  DEFAULT_PRODUCERS,
  ONE_PRODUCER_MAX_RATE,
  type ProduceConfig,
  type GeneratorSettings,
} from './config';
export { listScenarios, loadScenario, buildScenario, SCENARIOS_DIR, type Scenario } from './scenario';
export { formatSummary, type ProduceSummary } from './summary';
export type { ProgressMode } from './progress';
export * from './import';
export { createProducerMetrics, type ProducerMetrics } from './metrics';
export * from './sql';
