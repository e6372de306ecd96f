import type { Command } from 'commander';
import { loadCaptureConfig, startCapture } from '@cdc/capture';
import { sourceStackConfig } from '@cdc/stack';
import { commandContext } from '../context';
import { runUntilStopped } from '../lifecycle';
import { intOption, run } from '../run';

/** `cdc capture`: Debezium's topic of the source table → bronze, exactly once. */
export function registerCaptureCommand(program: Command): void {
  program
    .command('capture')
    .description(
      "run the capture stage until SIGINT/SIGTERM: the database's changes (Debezium's topic, `cdc source create`) -> bronze, exactly once; " +
        'undecodable records -> dead-letter topic',
    )
    .option(
      '--ops-port <port>',
      'port of /healthz and /metrics, 0 = random (env CAPTURE_OPS_PORT, default 9475)',
      intOption('--ops-port', 0, 65535),
    )
    .addHelpText(
      'after',
      '\nOther settings (env): CAPTURE_INSTANCE_ID, CAPTURE_GROUP_ID, CAPTURE_SOURCE_TOPIC, CAPTURE_SOURCE_NAME,\n' +
        'CAPTURE_TRANSACTION_TIMEOUT_MS, CAPTURE_RETRY_MS, CONNECT_URL, CAPTURE_CONNECTOR_CHECK_MS,\n' +
        'CAPTURE_CONNECTOR_MAX_BACKOFF_MS; SHUTDOWN_TIMEOUT_MS (default 10000).\n',
    )
    .action((opts: { opsPort?: number }) =>
      run(async () => {
        const ctx = commandContext('capture');
        const env: Record<string, string | undefined> = {
          ...process.env,
          KAFKA_BROKERS: ctx.connection.brokers.join(','),
          SCHEMA_REGISTRY_URL: ctx.connection.registryUrl,
        };
        if (opts.opsPort !== undefined) env.CAPTURE_OPS_PORT = String(opts.opsPort);
        // The connector it keeps running is on the local stack's Connect unless CONNECT_URL says otherwise.
        env.CONNECT_URL ??= sourceStackConfig(env).connectUrl;
        const config = loadCaptureConfig(env);
        await runUntilStopped(ctx, (signal) => startCapture(config, ctx.logger, { signal }));
      }),
    );
}
