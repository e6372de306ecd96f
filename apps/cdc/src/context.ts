import {
  createLogger,
  loadConnectionConfig,
  type ConnectionConfig,
  type LogDestination,
  type Logger,
} from '@cdc/core';
import { loadShutdownTimeoutMs } from '@cdc/observe';
import { stackConfig, type StackConfig } from '@cdc/stack';

/**
 * What every command needs: the connection settings (from KAFKA_BROKERS, SCHEMA_REGISTRY_URL,
 * TOPIC_PREFIX, or the local stack's addresses when those are unset), the shutdown deadline
 * (SHUTDOWN_TIMEOUT_MS) and a logger.
 */
export interface CommandContext {
  connection: ConnectionConfig;
  stack: StackConfig;
  logger: Logger;
  /** How long a long-running command may take to stop after SIGTERM/Ctrl-C. */
  shutdownTimeoutMs: number;
}

/** `destination`: where the command's own log lines go (default stderr). */
export function commandContext(service: string, destination?: LogDestination): CommandContext {
  const stack = stackConfig();
  const env = { ...process.env };
  env.KAFKA_BROKERS ??= `127.0.0.1:${stack.kafkaPort}`;
  env.SCHEMA_REGISTRY_URL ??= `http://127.0.0.1:${stack.registryPort}/apis/ccompat/v7`;
  const connection = loadConnectionConfig(env);
  return {
    connection,
    stack,
    logger: createLogger(service, connection.logLevel, connection.logFormat, destination),
    shutdownTimeoutMs: loadShutdownTimeoutMs(env),
  };
}
