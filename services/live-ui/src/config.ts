import { z } from 'zod';
import { intSetting, parseEnv, type Env } from '@cdc/core';
import { DEFAULT_DB_PATH } from '@cdc/read-model';

/**
 * The live UI's settings, read once at start from the environment (command-line options override
 * them, see `cdc ui --help`). Units are in the names.
 */
export interface LiveUiConfig {
  host: string;
  /** 0 = a random free port (tests). */
  port: number;
  dbPath: string;
  /** Origins allowed to open the websocket; empty = the server's own origin(s). */
  allowedOrigins: string[];
  /** Gold updates arriving within this window are pushed as one change batch. */
  coalesceMs: number;
  /** Change batches kept in memory for resuming clients. */
  versionLogBatches: number;
  /** Movie snapshots kept in that log, in all (bounds its memory). */
  versionLogEntries: number;
  heartbeatMs: number;
  /** Largest websocket message accepted from a browser. */
  maxPayloadBytes: number;
  /** A client whose unsent bytes exceed this is skipped, then caught up in one message. */
  maxBufferedBytes: number;
  /** A client that stays over maxBufferedBytes this long is disconnected. */
  slowClientTimeoutMs: number;
  maxClients: number;
  healthIntervalMs: number;
  /** Consumer group of the enricher (its lag on bronze is shown in the health panel). */
  enricherGroupId: string;
  /** Currency symbol for display only; all amounts are integer cents. */
  currencySymbol: string;
}

const origins = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((o) => o.trim())
      .filter((o) => o.length > 0),
  )
  .refine((list) => list.every((o) => /^https?:\/\/[^\s/]+$/.test(o)), {
    message: 'must be a comma-separated list of origins such as http://127.0.0.1:8080 (no path)',
  });

export const liveUiEnvSchema = z.object({
  UI_HOST: z.string().min(1).default('127.0.0.1').describe('address the dashboard listens on'),
  UI_PORT: intSetting(0, 65535).default(8080).describe("the dashboard's port, 0 = random"),
  AGGREGATOR_DB_PATH: z
    .string()
    .min(1)
    .default(DEFAULT_DB_PATH)
    .describe("the aggregator's SQLite database the dashboard reads"),
  UI_ALLOWED_ORIGINS: origins
    .default('')
    .describe("origins allowed to open the websocket, comma-separated (default: the server's own)"),
  UI_COALESCE_MS: intSetting(0, 5000)
    .default(20)
    .describe('gold updates within this window are pushed as one change batch (ms)'),
  UI_VERSION_LOG_BATCHES: intSetting(1, 1_000_000)
    .default(2000)
    .describe('change batches kept in memory for resuming clients'),
  UI_VERSION_LOG_ENTRIES: intSetting(1, 10_000_000)
    .default(100_000)
    .describe('movie snapshots kept in that log, in all (bounds its memory)'),
  UI_HEARTBEAT_MS: intSetting(100, 600_000).default(15_000).describe('websocket heartbeat interval (ms)'),
  UI_MAX_PAYLOAD_BYTES: intSetting(64, 1_048_576)
    .default(4096)
    .describe('largest websocket message accepted from a browser'),
  UI_MAX_BUFFERED_BYTES: intSetting(1024, 1_073_741_824)
    .default(4 * 1024 * 1024)
    .describe('a client whose unsent bytes exceed this is skipped, then caught up in one message'),
  UI_SLOW_CLIENT_TIMEOUT_MS: intSetting(100, 3_600_000)
    .default(30_000)
    .describe('a client that stays over UI_MAX_BUFFERED_BYTES this long is disconnected (ms)'),
  UI_MAX_CLIENTS: intSetting(1, 100_000).default(1000).describe('most websocket clients at once'),
  UI_HEALTH_INTERVAL_MS: intSetting(200, 600_000)
    .default(5000)
    .describe("how often the dashboard's health panel is refreshed (ms)"),
  /** Defaults to the enricher's own default, `<TOPIC_PREFIX>cdc-enricher`. */
  ENRICHER_GROUP_ID: z
    .string()
    .min(1)
    .optional()
    .describe(
      "the enricher's consumer group, whose lag the health panel shows (default <TOPIC_PREFIX>cdc-enricher)",
    ),
  UI_CURRENCY_SYMBOL: z
    .string()
    .max(4)
    .default('$')
    .describe('currency symbol shown on the dashboard (amounts are integer cents)'),
});

export function loadLiveUiConfig(
  env: Env = process.env,
  overrides: Partial<LiveUiConfig> = {},
): LiveUiConfig {
  const e = parseEnv(liveUiEnvSchema, env);
  const config: LiveUiConfig = {
    host: e.UI_HOST,
    port: e.UI_PORT,
    dbPath: e.AGGREGATOR_DB_PATH,
    allowedOrigins: e.UI_ALLOWED_ORIGINS,
    coalesceMs: e.UI_COALESCE_MS,
    versionLogBatches: e.UI_VERSION_LOG_BATCHES,
    versionLogEntries: e.UI_VERSION_LOG_ENTRIES,
    heartbeatMs: e.UI_HEARTBEAT_MS,
    maxPayloadBytes: e.UI_MAX_PAYLOAD_BYTES,
    maxBufferedBytes: e.UI_MAX_BUFFERED_BYTES,
    slowClientTimeoutMs: e.UI_SLOW_CLIENT_TIMEOUT_MS,
    maxClients: e.UI_MAX_CLIENTS,
    healthIntervalMs: e.UI_HEALTH_INTERVAL_MS,
    enricherGroupId: e.ENRICHER_GROUP_ID ?? `${env.TOPIC_PREFIX ?? ''}cdc-enricher`,
    currencySymbol: e.UI_CURRENCY_SYMBOL,
  };
  for (const [k, v] of Object.entries(overrides)) {
    if (v !== undefined) (config as unknown as Record<string, unknown>)[k] = v;
  }
  return config;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** The origins a browser shows for this server: with a loopback host, both 127.0.0.1 and localhost. */
export function ownOrigins(host: string, port: number): string[] {
  if (LOOPBACK.has(host)) {
    return [`http://127.0.0.1:${port}`, `http://localhost:${port}`, `http://[::1]:${port}`];
  }
  if (host === '0.0.0.0' || host === '::') return [`http://127.0.0.1:${port}`, `http://localhost:${port}`];
  return [`http://${host.includes(':') ? `[${host}]` : host}:${port}`];
}
