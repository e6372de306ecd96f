import { InvalidArgumentError, Option, type Command } from 'commander';
import { assertTimeZone, UsageError } from '@cdc/core';
import { loadEnricherConfig, startEnricher } from '@cdc/enricher';
import { commandContext } from '../context';
import { runUntilStopped } from '../lifecycle';
import { intOption, run } from '../run';

interface EnrichOptions {
  instanceId?: string;
  group?: string;
  /** Deprecated spelling of --group (the option every other command uses). */
  groupId?: string;
  timeZone?: string;
  opsPort?: number;
}

const timeZoneOption = (value: string): string => {
  try {
    assertTimeZone(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
  return value;
};

/** `cdc enrich`: bronze → silver with derived fields, exactly once; undecodable records → dead letters. */
export function registerEnrichCommand(program: Command): void {
  program
    .command('enrich')
    .description(
      'run the enricher until SIGINT/SIGTERM: bronze -> silver (derived fields), exactly once; bad bytes -> dead-letter topic. ' +
        "It derives with the pipeline's settings (control topic) and follows their changes (`cdc backfill`)",
    )
    .option(
      '--instance-id <id>',
      'stable id of this instance (env ENRICHER_INSTANCE_ID, default enricher-0); every running instance needs its own',
    )
    .option('--group <id>', 'consumer group (env ENRICHER_GROUP_ID, default <TOPIC_PREFIX>cdc-enricher)')
    .addOption(new Option('--group-id <id>', 'deprecated: use --group').hideHelp())
    .option(
      '--time-zone <zone>',
      "IANA time zone of booking_date_only/booking_hour/day_of_week (env ENRICHER_TIME_ZONE): recorded as the pipeline's " +
        'on its first start (default UTC); afterwards it must match the recorded one (change it with `cdc backfill --time-zone`)',
      timeZoneOption,
    )
    .option(
      '--ops-port <port>',
      'port of /healthz and /metrics, 0 = random (env ENRICHER_OPS_PORT, default 9471)',
      intOption('--ops-port', 0, 65535),
    )
    .addHelpText(
      'after',
      '\n' +
        'kafkajs has no KIP-447 fencing: each instance keeps one stable transactional id, <group>.<instance-id>.\n' +
        'To re-derive bronze (another time zone or rules version, from the beginning or a time): `cdc backfill`.\n',
    )
    .action((opts: EnrichOptions) =>
      run(async () => {
        const ctx = commandContext('enricher');
        const env: Record<string, string | undefined> = {
          ...process.env,
          KAFKA_BROKERS: ctx.connection.brokers.join(','),
          SCHEMA_REGISTRY_URL: ctx.connection.registryUrl,
        };
        if (opts.instanceId !== undefined) env.ENRICHER_INSTANCE_ID = opts.instanceId;
        if (opts.groupId !== undefined) {
          if (opts.group !== undefined)
            throw new UsageError('give --group only (--group-id is its deprecated spelling)');
          process.stderr.write('warning: --group-id is deprecated and will be removed: use --group\n');
        }
        const group = opts.group ?? opts.groupId;
        if (group !== undefined) env.ENRICHER_GROUP_ID = group;
        if (opts.timeZone !== undefined) env.ENRICHER_TIME_ZONE = opts.timeZone;
        if (opts.opsPort !== undefined) env.ENRICHER_OPS_PORT = String(opts.opsPort);
        const config = loadEnricherConfig(env);
        await runUntilStopped(ctx, (signal) => startEnricher(config, ctx.logger, { signal }));
      }),
    );
}
