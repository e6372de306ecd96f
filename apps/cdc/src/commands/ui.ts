import type { Command } from 'commander';
import { loadLiveUiConfig, startLiveUi } from '@cdc/live-ui';
import { commandContext } from '../context';
import { runUntilStopped } from '../lifecycle';
import { intOption, run } from '../run';

/** `cdc ui`: the live dashboard, until SIGINT/SIGTERM. */
export function registerUiCommand(program: Command): void {
  program
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
    .action((opts: { host?: string; port?: number; db?: string; allowedOrigins?: string }) =>
      run(async () => {
        const ctx = commandContext('live-ui');
        const env = { ...process.env };
        if (opts.host !== undefined) env.UI_HOST = opts.host;
        if (opts.port !== undefined) env.UI_PORT = String(opts.port);
        if (opts.db !== undefined) env.AGGREGATOR_DB_PATH = opts.db;
        if (opts.allowedOrigins !== undefined) env.UI_ALLOWED_ORIGINS = opts.allowedOrigins;
        const config = loadLiveUiConfig(env);
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
}
