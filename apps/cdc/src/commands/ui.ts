import { InvalidArgumentError, type Command } from 'commander';
import {
  createToken,
  listTokens,
  loadLiveUiConfig,
  revokeToken,
  ROLES,
  startLiveUi,
  type Role,
} from '@cdc/live-ui';
import { commandContext } from '../context';
import { runUntilStopped } from '../lifecycle';
import { intOption, run } from '../run';

interface UiOptions {
  host?: string;
  port?: number;
  db?: string;
  allowedOrigins?: string;
  auth?: boolean;
  trustedNetwork?: boolean;
  tokens?: string;
  tlsCert?: string;
  tlsKey?: string;
}

/** `cdc ui`: the live dashboard, until SIGINT/SIGTERM. */
export function registerUiCommand(program: Command): void {
  const ui = program
    .command('ui')
    .description(
      'serve the live dashboard (gold KPIs pushed over websockets, rows from the aggregator database)',
    )
    .option('--host <host>', 'address to listen on (UI_HOST, default 127.0.0.1)')
    .option(
      '--port <n>',
      'port to listen on, 0 = random (UI_PORT, default 8080)',
      intOption('--port', 0, 65535),
    )
    .option('--db <path>', 'the aggregator database (AGGREGATOR_DB_PATH, default data/aggregator.db)')
    .option(
      '--allowed-origins <list>',
      'comma-separated origins allowed to open the websocket (UI_ALLOWED_ORIGINS, default the server itself)',
    )
    .option('--auth', 'require API tokens even on loopback (UI_AUTH=required; always on elsewhere)')
    .option(
      '--trusted-network',
      'serve a non-loopback address without API tokens: everyone who reaches the port sees the data (UI_TRUSTED_NETWORK=true)',
    )
    .option('--tokens <file>', 'the API tokens file (UI_TOKENS_PATH, default data/ui-tokens.json)')
    .option('--tls-cert <file>', 'serve HTTPS with this certificate, PEM (UI_TLS_CERT_FILE; with --tls-key)')
    .option('--tls-key <file>', 'the private key of --tls-cert, PEM (UI_TLS_KEY_FILE)')
    .action((opts: UiOptions) =>
      run(async () => {
        const ctx = commandContext('live-ui');
        const config = loadLiveUiConfig(uiEnv(opts));
        await runUntilStopped(ctx, async (signal) => {
          const server = await startLiveUi({
            config,
            connection: ctx.connection,
            logger: ctx.logger,
            signal,
          });
          process.stdout.write(`dashboard at ${server.url}\n`);
          return { close: () => server.stop(), unfinishedWork: () => server.unfinishedWork() };
        });
      }),
    );
  registerTokensCommand(ui);
}

/** The environment with the command line's options over it (the options win). */
function uiEnv(opts: UiOptions): NodeJS.ProcessEnv {
  const env = { ...process.env };
  if (opts.host !== undefined) env.UI_HOST = opts.host;
  if (opts.port !== undefined) env.UI_PORT = String(opts.port);
  if (opts.db !== undefined) env.AGGREGATOR_DB_PATH = opts.db;
  if (opts.allowedOrigins !== undefined) env.UI_ALLOWED_ORIGINS = opts.allowedOrigins;
  if (opts.auth) env.UI_AUTH = 'required';
  if (opts.trustedNetwork) env.UI_TRUSTED_NETWORK = 'true';
  if (opts.tokens !== undefined) env.UI_TOKENS_PATH = opts.tokens;
  if (opts.tlsCert !== undefined) env.UI_TLS_CERT_FILE = opts.tlsCert;
  if (opts.tlsKey !== undefined) env.UI_TLS_KEY_FILE = opts.tlsKey;
  return env;
}

const roleOption = (value: string): Role => {
  if (!(ROLES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`--role must be one of ${ROLES.join(', ')}, got '${value}'`);
  }
  return value as Role;
};

const tokensFile = (opts: { tokens?: string }): string =>
  loadLiveUiConfig(opts.tokens === undefined ? process.env : { ...process.env, UI_TOKENS_PATH: opts.tokens })
    .tokensPath;

/** `cdc ui tokens create|revoke|list`: the dashboard's API tokens (stored hashed). */
function registerTokensCommand(ui: Command): void {
  const tokens = ui.command('tokens').description("manage the dashboard's API tokens");
  tokens
    .command('create')
    .description('create an API token and print it (once: only its hash is kept)')
    .requiredOption('--role <role>', `what it may do: ${ROLES.join(' or ')}`, roleOption)
    .option('--name <name>', 'who or what it is for (shown by list)', '')
    .option('--tokens <file>', 'the API tokens file (UI_TOKENS_PATH, default data/ui-tokens.json)')
    .action((opts: { role: Role; name: string; tokens?: string }) =>
      run(async () => {
        const file = tokensFile(opts);
        const { record, token } = createToken(file, opts.role, opts.name);
        process.stderr.write(
          `created ${record.role} token ${record.id} in ${file}; it is shown once, keep it now:\n`,
        );
        process.stdout.write(`${token}\n`);
      }),
    );
  tokens
    .command('revoke <id>')
    .description('revoke an API token (a running dashboard refuses it from its next request)')
    .option('--tokens <file>', 'the API tokens file (UI_TOKENS_PATH, default data/ui-tokens.json)')
    .action((id: string, opts: { tokens?: string }) =>
      run(async () => {
        const file = tokensFile(opts);
        const record = revokeToken(file, id);
        process.stdout.write(`revoked ${record.role} token ${record.id} (${record.revoked_at})\n`);
      }),
    );
  tokens
    .command('list')
    .description('list the API tokens (ids, roles, names; never the tokens)')
    .option('--tokens <file>', 'the API tokens file (UI_TOKENS_PATH, default data/ui-tokens.json)')
    .option('--json', 'as JSON')
    .action((opts: { tokens?: string; json?: boolean }) =>
      run(async () => {
        const list = listTokens(tokensFile(opts)).map(({ sha256: _hash, ...t }) => t);
        if (opts.json) process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
        else
          for (const t of list)
            process.stdout.write(
              `${t.id}  ${t.role.padEnd(8)}  ${t.revoked_at ? `revoked ${t.revoked_at}` : 'active'}  ${t.created_at}  ${t.name}\n`,
            );
      }),
    );
}
