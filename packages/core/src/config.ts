import { z } from 'zod';
import { loadConnectionSecurity, type KafkaSecurity, type RegistrySecurity } from './connection-security';
import { ConfigError } from './errors';

/**
 * Configuration is read once per service, from the environment (and command-line options that
 * override it), and validated here. A bad value stops the service at start with a message
 * naming the variable and what to fix. Units are in the names (`flushIntervalMs`).
 */
export type Env = Record<string, string | undefined>;

const brokerList = z
  .string()
  .min(1)
  .transform((s) => s.split(',').map((b) => b.trim()))
  .refine((list) => list.every((b) => /^[^\s:]+:\d{1,5}$/.test(b)), {
    message: 'must be a comma-separated list of host:port',
  });

export const connectionSchema = z.object({
  KAFKA_BROKERS: brokerList
    .default('127.0.0.1:9092')
    .describe(
      "Kafka bootstrap brokers, comma-separated host:port (the CLI's default: the local stack's, 127.0.0.1:CDC_KAFKA_PORT)",
    ),
  SCHEMA_REGISTRY_URL: z
    .string()
    .url('must be a URL such as http://127.0.0.1:8081/apis/ccompat/v7')
    .optional()
    .describe(
      "Confluent-compatible schema registry API, e.g. Apicurio's http://host:8081/apis/ccompat/v7 (the CLI's default: the local stack's)",
    ),
  TOPIC_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9._-]*$/, 'may only contain letters, digits, ".", "_" and "-"')
    .default('')
    .describe('prefix of every topic and consumer group name: one pipeline per prefix on one cluster'),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info')
    .describe('log level: fatal, error, warn, info, debug, trace or silent'),
  LOG_FORMAT: z
    .enum(['pino', 'iso'])
    .default('pino')
    .describe(
      "log line format: pino (epoch-ms time, numeric level: pino's tools read it) or iso (ISO-8601 time, level by name: for Loki, ELK and people)",
    ),
  KAFKA_CLIENT_ID: z
    .string()
    .min(1)
    .default('cdc')
    .describe('Kafka client id of every connection (shown in broker logs and quotas)'),
});

export interface ConnectionConfig {
  brokers: string[];
  /** Base URL of the Confluent-compatible API (for Apicurio: .../apis/ccompat/v7). */
  registryUrl: string;
  topicPrefix: string;
  logLevel: z.infer<typeof connectionSchema>['LOG_LEVEL'];
  logFormat: z.infer<typeof connectionSchema>['LOG_FORMAT'];
  clientId: string;
  /** KAFKA_SECURITY_PROTOCOL and its SASL/TLS settings (connection-security.ts). */
  kafkaSecurity: KafkaSecurity;
  /** The registry's credentials and CA (connection-security.ts). */
  registrySecurity: RegistrySecurity;
}

export const DEFAULT_REGISTRY_URL = 'http://127.0.0.1:8081/apis/ccompat/v7';

/** Validates `env` against `schema`; throws a ConfigError that lists every bad variable. */
export function parseEnv<S extends z.ZodTypeAny>(schema: S, env: Env): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data as z.infer<S>;
  const lines = result.error.issues.map((issue) => {
    const name = issue.path.join('.') || '(config)';
    const value = typeof issue.path[0] === 'string' ? env[issue.path[0]] : undefined;
    return `  ${name}${value === undefined ? '' : `=${JSON.stringify(value)}`}: ${issue.message}`;
  });
  throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
}

export function loadConnectionConfig(env: Env = process.env): ConnectionConfig {
  const c = parseEnv(connectionSchema, env);
  const registryUrl = (c.SCHEMA_REGISTRY_URL ?? DEFAULT_REGISTRY_URL).replace(/\/+$/, '');
  return {
    brokers: c.KAFKA_BROKERS,
    registryUrl,
    topicPrefix: c.TOPIC_PREFIX,
    logLevel: c.LOG_LEVEL,
    logFormat: c.LOG_FORMAT,
    clientId: c.KAFKA_CLIENT_ID,
    ...loadConnectionSecurity(env, registryUrl),
  };
}

/** An integer env var or option with bounds, for service-specific settings. */
export const intSetting = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
