import { z } from 'zod';
import { ConfigError, intSetting, parseEnv, type Env } from '@cdc/core';
import { DEFAULT_DB_PATH } from '@cdc/read-model';
import { DEFAULT_TOKENS_PATH } from './api-tokens';

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
  /** `auto`: API tokens required unless the host is loopback; `required`: always. */
  auth: 'auto' | 'required';
  /** Serve a non-loopback host without tokens (everyone who can reach the port sees the data). */
  trustedNetwork: boolean;
  /** The API tokens (`cdc ui tokens`), stored hashed. */
  tokensPath: string;
  /** A browser's session after signing in lasts this long. */
  sessionTtlMinutes: number;
  /** Failed sign-in attempts (wrong tokens) a client address may make per minute. */
  authMaxFailuresPerMinute: number;
  /** HTTPS: both files (PEM), or neither for plain HTTP. */
  tlsCertFile: string | null;
  tlsKeyFile: string | null;
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
  UI_AUTH: z
    .enum(['auto', 'required'])
    .default('auto')
    .describe('auto: API tokens required off loopback only; required: on loopback too'),
  UI_TRUSTED_NETWORK: z
    .enum(['true', 'false'])
    .default('false')
    .describe('true: serve without tokens off loopback (the network is trusted; logged as a warning)'),
  UI_TOKENS_PATH: z
    .string()
    .min(1)
    .default(DEFAULT_TOKENS_PATH)
    .describe("the dashboard's API tokens (hashed), written by cdc ui tokens"),
  UI_SESSION_TTL_MINUTES: intSetting(1, 525_600)
    .default(720)
    .describe('how long a browser session lasts after sign-in (minutes)'),
  UI_AUTH_MAX_FAILURES_PER_MINUTE: intSetting(1, 10_000)
    .default(10)
    .describe('failed sign-ins per client address per minute before it is refused (429)'),
  UI_TLS_CERT_FILE: z.string().min(1).optional().describe('PEM certificate: the dashboard serves HTTPS'),
  UI_TLS_KEY_FILE: z.string().min(1).optional().describe("PEM private key of UI_TLS_CERT_FILE's certificate"),
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
    auth: e.UI_AUTH,
    trustedNetwork: e.UI_TRUSTED_NETWORK === 'true',
    tokensPath: e.UI_TOKENS_PATH,
    sessionTtlMinutes: e.UI_SESSION_TTL_MINUTES,
    authMaxFailuresPerMinute: e.UI_AUTH_MAX_FAILURES_PER_MINUTE,
    tlsCertFile: e.UI_TLS_CERT_FILE ?? null,
    tlsKeyFile: e.UI_TLS_KEY_FILE ?? null,
  };
  for (const [k, v] of Object.entries(overrides)) {
    if (v !== undefined) (config as unknown as Record<string, unknown>)[k] = v;
  }
  if ((config.tlsCertFile === null) !== (config.tlsKeyFile === null)) {
    throw new ConfigError(
      'HTTPS needs both a certificate and its key: set --tls-cert and --tls-key (UI_TLS_CERT_FILE, UI_TLS_KEY_FILE), or neither',
    );
  }
  return config;
}

export const isLoopback = (host: string): boolean => LOOPBACK.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);

/**
 * Whether the server asks for API tokens: always off the loopback interface (unless the network
 * is declared trusted), on loopback only when asked (`UI_AUTH=required`, `--auth`), so
 * `npm start` on a laptop stays as it was.
 */
export function authRequired(config: Pick<LiveUiConfig, 'auth' | 'host' | 'trustedNetwork'>): boolean {
  if (config.auth === 'required') return true;
  return !isLoopback(config.host) && !config.trustedNetwork;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** The origins a browser shows for this server: with a loopback host, both 127.0.0.1 and localhost. */
export function ownOrigins(host: string, port: number, scheme: 'http' | 'https' = 'http'): string[] {
  if (LOOPBACK.has(host)) {
    return [`${scheme}://127.0.0.1:${port}`, `${scheme}://localhost:${port}`, `${scheme}://[::1]:${port}`];
  }
  if (host === '0.0.0.0' || host === '::')
    return [`${scheme}://127.0.0.1:${port}`, `${scheme}://localhost:${port}`];
  return [`${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`];
}
