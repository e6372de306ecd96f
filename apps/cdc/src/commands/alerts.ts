import type { Command } from 'commander';
import { DEFAULT_ALERTS_DB, DEFAULT_ALERTS_OPS_PORT, loadAlertsConfig, startAlerts } from '@cdc/alerts';
import type { Env } from '@cdc/core';
import { commandContext } from '../context';
import { runUntilStopped } from '../lifecycle';
import { intOption, run } from '../run';

interface AlertsOptions {
  rules?: string;
  webhook: string[];
  alertmanager: string[];
  webhookSecret?: string;
  db?: string;
  opsPort?: number;
  group?: string;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** `cdc alerts`: the alert rules over the pipeline, until SIGINT/SIGTERM. */
export function registerAlertsCommand(program: Command): void {
  program
    .command('alerts')
    .description(
      'evaluate alert rules (cancellation spikes, booking surges and drops, data quality, dead letters, ' +
        'staleness) over gold and the pipeline; transitions to the alerts topic, to webhooks and to Alertmanager',
    )
    .allowExcessArguments(false)
    .option(
      '--rules <path>',
      'rules file (ALERTS_RULES_FILE, default: the shipped services/alerts/alerts.yaml)',
    )
    .option(
      '--webhook <url>',
      'POST every transition here (repeatable; ALERTS_WEBHOOKS, comma-separated)',
      collect,
      [],
    )
    .option(
      '--alertmanager <url>',
      "POST every transition to this Alertmanager's v2 API (repeatable; ALERTS_ALERTMANAGERS, comma-separated; links to ALERTS_GENERATOR_URL)",
      collect,
      [],
    )
    .option(
      '--webhook-secret <secret>',
      'sign webhooks per Standard Webhooks with this whsec_<base64> secret (ALERTS_WEBHOOK_SECRET, preferred: not visible in the process list)',
    )
    .option('--db <path>', `the service's state (ALERTS_DB_PATH, default ${DEFAULT_ALERTS_DB})`)
    .option(
      '--ops-port <n>',
      `/healthz and /metrics port, 0 = random (ALERTS_OPS_PORT, default ${DEFAULT_ALERTS_OPS_PORT})`,
      intOption('--ops-port', 0, 65535),
    )
    .option('--group <id>', 'consumer group on gold (ALERTS_GROUP_ID, default <TOPIC_PREFIX>cdc-alerts)')
    .action((opts: AlertsOptions) =>
      run(async () => {
        const env: Env = { ...process.env };
        if (opts.rules !== undefined) env.ALERTS_RULES_FILE = opts.rules;
        if (opts.webhookSecret !== undefined) env.ALERTS_WEBHOOK_SECRET = opts.webhookSecret;
        if (opts.db !== undefined) env.ALERTS_DB_PATH = opts.db;
        if (opts.opsPort !== undefined) env.ALERTS_OPS_PORT = String(opts.opsPort);
        if (opts.group !== undefined) env.ALERTS_GROUP_ID = opts.group;
        // Validated before connecting to anything: a bad rule or URL stops here (exit 2).
        const config = loadAlertsConfig(env, {
          ...(opts.webhook.length > 0 ? { webhooks: opts.webhook } : {}),
          ...(opts.alertmanager.length > 0 ? { alertmanagers: opts.alertmanager } : {}),
        });
        const ctx = commandContext('alerts');
        // Stops like every service: within SHUTDOWN_TIMEOUT_MS whether the broker is up, down or
        // hanging. Undelivered notifications are not abandoned: the outbox sends them after a restart.
        await runUntilStopped(ctx, async () => {
          const alerts = await startAlerts({ ...config, connection: ctx.connection }, ctx.logger);
          return {
            close: () => alerts.stop(),
            stopped: alerts.done.then(
              () => null,
              (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
            ),
          };
        });
      }),
    );
}
