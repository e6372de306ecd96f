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
  /** Alertmanagers (base URLs) that get every transition on their v2 API. */
  alertmanagers: string[];
  /** The link in each Alertmanager alert (the dashboard). */
  generatorUrl: string;
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
  ALERTS_RULES_FILE: z
    .string()
    .min(1)
    .default(DEFAULT_RULES_FILE)
    .describe('the alert rules file (default: the shipped services/alerts/alerts.yaml)'),
  ALERTS_WEBHOOKS: z
    .string()
    .default('')
    .describe('webhook URLs that receive every alert transition, comma-separated'),
  ALERTS_ALERTMANAGERS: z
    .string()
    .default('')
    .describe('Alertmanager base URLs that receive firing and resolved alerts (v2 API), comma-separated'),
  ALERTS_GENERATOR_URL: z
    .string()
    .default('http://localhost:8080/')
    .describe("the dashboard's address, linked from each alert sent to Alertmanager (generatorURL)"),
  ALERTS_WEBHOOK_SECRET: z
    .string()
    .refine(
      (s) => typeof secretKey(s) !== 'string',
      (s) => ({ message: String(secretKey(s)) }),
    )
    .optional()
    .describe('Standard Webhooks signing secret of webhook deliveries, whsec_<base64 of 24-64 bytes>'),
  ALERTS_DB_PATH: z
    .string()
    .min(1, 'must be a file path')
    .default(DEFAULT_ALERTS_DB)
    .describe("the alerts service's state (SQLite)"),
  ALERTS_OPS_PORT: intSetting(0, 65535)
    .default(DEFAULT_ALERTS_OPS_PORT)
    .describe("port of the alerts service's /healthz and /metrics, 0 = random"),
  ALERTS_GROUP_ID: group
    .optional()
    .describe("the alerts service's consumer group on gold (default <TOPIC_PREFIX>cdc-alerts)"),
  ENRICHER_GROUP_ID: group
    .optional()
    .describe(
      "the enricher's consumer group, whose lag the rules watch (default <TOPIC_PREFIX>cdc-enricher)",
    ),
  AGGREGATOR_GROUP_ID: group
    .optional()
    .describe(
      "the aggregator's consumer group, whose lag the rules watch (default <TOPIC_PREFIX>cdc-aggregator)",
    ),
  ALERTS_EVALUATE_INTERVAL_MS: intSetting(10, 60_000)
    .default(250)
    .describe('how often the rules are evaluated (ms)'),
  ALERTS_PROBE_INTERVAL_MS: intSetting(100, 600_000)
    .default(2000)
    .describe('how often the pipeline is probed for lag and staleness (ms)'),
  ALERTS_CHECKPOINT_INTERVAL_MS: intSetting(100, 600_000)
    .default(5000)
    .describe("how often the engine's state is saved (ms)"),
  ALERTS_WEBHOOK_TIMEOUT_MS: intSetting(100, 120_000)
    .default(5000)
    .describe('timeout of one webhook POST (ms)'),
  ALERTS_RETRY_MIN_MS: intSetting(10, 600_000)
    .default(500)
    .describe('first backoff before re-sending a failed delivery (ms)'),
  ALERTS_RETRY_MAX_MS: intSetting(100, 3_600_000)
    .default(30_000)
    .describe('longest backoff between re-sends of a failed delivery (ms)'),
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

/** `overrides`: the CLI's repeatable --webhook and --alertmanager (instead of ALERTS_WEBHOOKS, ALERTS_ALERTMANAGERS). */
export function loadAlertsConfig(
  env: Env = process.env,
  overrides: { webhooks?: string[]; alertmanagers?: string[] } = {},
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
  const alertmanagers =
    overrides.alertmanagers?.map((u) => checkWebhookUrl(u, '--alertmanager')) ??
    e.ALERTS_ALERTMANAGERS.split(',')
      .map((u) => u.trim())
      .filter((u) => u.length > 0)
      .map((u) => checkWebhookUrl(u, 'ALERTS_ALERTMANAGERS'));
  if (new Set(alertmanagers).size !== alertmanagers.length) {
    throw new ConfigError('--alertmanager (ALERTS_ALERTMANAGERS): the same URL is given twice');
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
    alertmanagers,
    generatorUrl: checkWebhookUrl(e.ALERTS_GENERATOR_URL, 'ALERTS_GENERATOR_URL'),
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
