import { createLogger } from '@cdc/core';
import { stackConfig, stackDown } from '@cdc/stack';
import { TEST_STACK_ENV } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  if (process.env.CDC_TEST_STACK_STARTED !== '1' || process.env.CDC_KEEP_TEST_STACK) return;
  const config = stackConfig({
    ...process.env,
    ...TEST_STACK_ENV,
    KAFKA_BROKERS: undefined,
    SCHEMA_REGISTRY_URL: undefined,
  });
  await stackDown(config, createLogger('test-stack', 'warn'));
}
