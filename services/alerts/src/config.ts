import { z } from 'zod';
import {
  connectionSchema,
  ConfigError,
  intSetting,
  loadConnectionConfig,
  parseEnv,
  topicNames,
  type ConnectionConfig,
  type Env,
  type TopicNames,
} from '@cdc/core';
import { DEFAULT_RULES_FILE, loadRulesFile } from './rules/load';
import type { Rule } from './rules/types';
import { secretKey } from './webhook';

/**
 * The alerts service's settings, read and validated once at start: environment variables, which
 * the CLI's options override (`cdc alerts --help`). The rules file is read and validated here
 * too, so a bad rule stops the service before it connects to anything (exit 2).
 */
export interface AlertsConfig {
  connection: ConnectionConfig;
  topics: TopicNames;
  rulesFile: string;
  rules: Rule[];
  /** Receivers of a JSON POST per transition. */
  webhooks: string[];
  /** Key of the HMAC-SHA256 signature header; null: POSTs are not signed. */
  webhookSecret: string | null;
  /** The service's own SQLite file: engine state, transitions, delivery outbox. */
  dbPath: string;
  opsPort: number;
  /** Consumer group on gold (its committed offsets say where a restart resumes). */
  groupId: string;
  enricherGroupId: string;
  aggregatorGroupId: string;
  evaluateIntervalMs: number;
  probeIntervalMs: number;
  checkpointIntervalMs: number;
  webhookTimeoutMs: number;
  retryMinMs: number;
  retryMaxMs: number;
}

export const DEFAULT_ALERTS_DB = 'data/alerts.db';
export const DEFAULT_ALERTS_OPS_PORT = 9474;

const group = z.string().regex(/^[a-zA-Z0-9._-]{1,200}$/, 'use 1-200 letters, digits, ".", "_" or "-"');

export const alertsSchema = connectionSchema.extend({
  ALERTS_RULES_FILE: z.string().min(1).default(DEFAULT_RULES_FILE),
  ALERTS_WEBHOOKS: z.string().default(''),
  ALERTS_WEBHOOK_SECRET: z
    .string()
    .refine(
      (s) => typeof secretKey(s) !== 'string',
      (s) => ({ message: String(secretKey(s)) }),
    )
    .optional(),
  ALERTS_DB_PATH: z.string().min(1, 'must be a file path').default(DEFAULT_ALERTS_DB),
  ALERTS_OPS_PORT: intSetting(0, 65535).default(DEFAULT_ALERTS_OPS_PORT),
  ALERTS_GROUP_ID: group.optional(),
  ENRICHER_GROUP_ID: group.optional(),
  AGGREGATOR_GROUP_ID: group.optional(),
  ALERTS_EVALUATE_INTERVAL_MS: intSetting(10, 60_000).default(250),
  ALERTS_PROBE_INTERVAL_MS: intSetting(100, 600_000).default(2000),
  ALERTS_CHECKPOINT_INTERVAL_MS: intSetting(100, 600_000).default(5000),
  ALERTS_WEBHOOK_TIMEOUT_MS: intSetting(100, 120_000).default(5000),
  ALERTS_RETRY_MIN_MS: intSetting(10, 600_000).default(500),
  ALERTS_RETRY_MAX_MS: intSetting(100, 3_600_000).default(30_000),
});

/** Throws a ConfigError naming `setting` unless `url` is an http(s) URL. */
export function checkWebhookUrl(url: string, setting: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`${setting}: '${url}' is not a URL (use http://host:port/path or https://…)`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ConfigError(
      `${setting}: '${url}' is not an http(s) URL (got ${parsed.protocol.replace(':', '')})`,
    );
  }
  return parsed.toString();
}

/** `overrides.webhooks`: the CLI's repeatable --webhook (instead of ALERTS_WEBHOOKS). */
export function loadAlertsConfig(
  env: Env = process.env,
  overrides: { webhooks?: string[] } = {},
): AlertsConfig {
  const e = parseEnv(alertsSchema, env);
  const connection = loadConnectionConfig(env);
  const webhooks =
    overrides.webhooks?.map((u) => checkWebhookUrl(u, '--webhook')) ??
    e.ALERTS_WEBHOOKS.split(',')
      .map((u) => u.trim())
      .filter((u) => u.length > 0)
      .map((u) => checkWebhookUrl(u, 'ALERTS_WEBHOOKS'));
  if (new Set(webhooks).size !== webhooks.length) {
    throw new ConfigError('--webhook (ALERTS_WEBHOOKS): the same URL is given twice');
  }
  if (e.ALERTS_RETRY_MIN_MS > e.ALERTS_RETRY_MAX_MS) {
    throw new ConfigError('ALERTS_RETRY_MIN_MS must not be above ALERTS_RETRY_MAX_MS');
  }
  const prefix = connection.topicPrefix;
  return {
    connection,
    topics: topicNames(prefix),
    rulesFile: e.ALERTS_RULES_FILE,
    rules: loadRulesFile(e.ALERTS_RULES_FILE),
    webhooks,
    webhookSecret: e.ALERTS_WEBHOOK_SECRET ?? null,
    dbPath: e.ALERTS_DB_PATH,
    opsPort: e.ALERTS_OPS_PORT,
    groupId: e.ALERTS_GROUP_ID ?? `${prefix}cdc-alerts`,
    enricherGroupId: e.ENRICHER_GROUP_ID ?? `${prefix}cdc-enricher`,
    aggregatorGroupId: e.AGGREGATOR_GROUP_ID ?? `${prefix}cdc-aggregator`,
    evaluateIntervalMs: e.ALERTS_EVALUATE_INTERVAL_MS,
    probeIntervalMs: e.ALERTS_PROBE_INTERVAL_MS,
    checkpointIntervalMs: e.ALERTS_CHECKPOINT_INTERVAL_MS,
    webhookTimeoutMs: e.ALERTS_WEBHOOK_TIMEOUT_MS,
    retryMinMs: e.ALERTS_RETRY_MIN_MS,
    retryMaxMs: e.ALERTS_RETRY_MAX_MS,
  };
}
