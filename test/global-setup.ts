import { createLogger } from '@cdc/core';
import { stackConfig, stackUp } from '@cdc/stack';

/**
 * Starts a private stack for the integration tests, once per run, on ports that cannot clash
 * with a `cdc stack up` on the defaults. With KAFKA_BROKERS and SCHEMA_REGISTRY_URL set, the
 * tests use that stack instead and nothing is started.
 */
export const TEST_STACK_ENV = {
  // One stack per Kafka version (CDC_KAFKA_VERSION, e.g. CI's compatibility run on 3.9): a 3.x
  // broker cannot start on data a 4.x one wrote.
  CDC_STACK_NAME: process.env.CDC_KAFKA_VERSION
    ? `test-kafka-${process.env.CDC_KAFKA_VERSION.replace(/[^a-z0-9]/gi, '-')}`
    : 'test',
  CDC_KAFKA_PORT: process.env.CDC_TEST_KAFKA_PORT ?? '39092',
  CDC_REGISTRY_PORT: process.env.CDC_TEST_REGISTRY_PORT ?? '38081',
};

export default async function globalSetup(): Promise<void> {
  if (process.env.KAFKA_BROKERS && process.env.SCHEMA_REGISTRY_URL) return;
  const config = stackConfig({
    ...process.env,
    ...TEST_STACK_ENV,
    KAFKA_BROKERS: undefined,
    SCHEMA_REGISTRY_URL: undefined,
  });
  const status = await stackUp(config, createLogger('test-stack', 'warn'));
  process.env.KAFKA_BROKERS = status.brokers;
  process.env.SCHEMA_REGISTRY_URL = status.registryUrl;
  process.env.CDC_TEST_STACK_STARTED = '1';
}
