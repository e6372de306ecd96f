export { startCapture, type Capture } from './service';
export {
  loadCaptureConfig,
  captureSchema,
  sourceTopicName,
  SOURCE_TOPIC,
  type CaptureConfig,
} from './config';
export { decodeDebeziumChange, UndecodableChange, cents, type Decoded } from './debezium';
export { captureBatch, type CaptureBatch } from './capture-batch';
export * from './source/source';
export { sourceNames, connectorConfig, type SourcePlan } from './source/connector';
export { describeTarget, databaseTarget, type DatabaseTarget, type SlotState } from './source/database';
export type { ConnectorStatus } from './source/connect-rest';
export { CaptureMetrics } from './metrics';
