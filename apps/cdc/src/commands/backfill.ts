import { Option, type Command } from 'commander';
import {
  createControlClient,
  createKafka,
  createRegistryClient,
  errorMessage,
  intSetting,
  parseEnv,
  parseTimestamp,
  type Env,
} from '@cdc/core';
import { Shutdown } from '@cdc/observe';
import {
  backfillStatus,
  describeMember,
  executeBackfill,
  loadEnricherConfig,
  planBackfill,
  type BackfillDeps,
  type BackfillFrom,
} from '@cdc/enricher';
import { z } from 'zod';
import { formatFinished, formatPlan, formatStatus } from '../backfill-format';
import { backfillProgressReporter } from '../backfill-progress';
import { commandContext } from '../context';
import { run } from '../run';

interface BackfillOptions {
  from?: string;
  fromBeginning?: boolean;
  timeZone?: string;
  rulesVersion?: string;
  rederive?: boolean;
  execute?: boolean;
  status?: boolean;
  json?: boolean;
}

/** Exit code of a backfill interrupted by SIGINT/SIGTERM (the same command resumes it). */
export const EXIT_INTERRUPTED = 130;

export const backfillSchema = z.object({
  BACKFILL_SWITCH_TIMEOUT_MS: intSetting(1000, 3_600_000)
    .default(120_000)
    .describe('how long `cdc backfill --execute` waits for the enrichers to switch to the new settings (ms)'),
});

/** Maps and the like as plain JSON. */
const toJson = (value: unknown): string =>
  JSON.stringify(value, (_k, v: unknown) => (v instanceof Map ? (Object.fromEntries(v) as unknown) : v), 2);

export function registerBackfillCommand(program: Command): void {
  program
    .command('backfill')
    .description(
      're-derive bronze into silver under new derivation settings (time zone, rules version) with a new epoch. ' +
        'Prints the plan and changes nothing; --execute records the new settings (live enrichers switch at once), ' +
        're-derives the planned range exactly once, and exits 0 when done. Interrupted, the same command resumes it',
    )
    .addOption(
      new Option(
        '--from <time>',
        're-derive bronze from the first record written at or after this time (ISO 8601 or epoch ms; ' +
          "bronze's record timestamps, i.e. when changes reached bronze)",
      ).conflicts('fromBeginning'),
    )
    .option('--from-beginning', "re-derive from bronze's earliest retained offset (the default)")
    .option('--time-zone <zone>', 'the new IANA time zone of booking_date_only/booking_hour/day_of_week')
    .option('--rules-version <version>', 'the derivation rules version to switch to (one the enricher knows)')
    .option(
      '--rederive',
      're-derive under a new epoch even if no setting changes (after a bad enricher deploy, with the fixed build running)',
    )
    .option('--execute', 'do it (without: print the plan only)')
    .addOption(
      new Option(
        '--status',
        'show the settings, the enrichers and every backfill (progress of an unfinished one)',
      ).conflicts(['execute', 'from', 'fromBeginning', 'timeZone', 'rulesVersion', 'rederive']),
    )
    .option('--json', 'print the plan, status or result as JSON')
    .addHelpText(
      'after',
      '\nThe end offsets are captured after every live enricher has acknowledged the new epoch (see the enricher README).\n' +
        'Settings not named keep their current value; naming no change is refused (exit 2) unless --rederive, except that\n' +
        'the same command run again after its backfill finished says so and exits 0. Env BACKFILL_SWITCH_TIMEOUT_MS (default\n' +
        '120000): how long --execute waits for the live enrichers; ENRICHER_* settings tune the backfill like the enricher.\n' +
        'Exit codes: 0 done (or nothing left to do), 1 failed, 2 bad input (nothing changed), 130 interrupted (resumable).\n',
    )
    .action((opts: BackfillOptions) =>
      run(async () => {
        const ctx = commandContext('backfill');
        const env: Env = {
          ...process.env,
          KAFKA_BROKERS: ctx.connection.brokers.join(','),
          SCHEMA_REGISTRY_URL: ctx.connection.registryUrl,
          ENRICHER_TIME_ZONE: undefined,
          ENRICHER_OPS_PORT: '0',
        };
        const { BACKFILL_SWITCH_TIMEOUT_MS: switchTimeoutMs } = parseEnv(backfillSchema, env);
        const config = loadEnricherConfig(env);
        const from: BackfillFrom =
          opts.from === undefined
            ? { kind: 'beginning' }
            : { kind: 'time', ms: parseTimestamp('--from', opts.from) };

        const kafka = createKafka(ctx.connection, ctx.logger);
        const admin = kafka.admin();
        const registry = createRegistryClient(ctx.connection);
        const control = createControlClient({
          kafka,
          registry,
          topic: config.topics.control,
          logger: ctx.logger,
          groupPrefix: `${ctx.connection.topicPrefix}cdc-backfill`,
        });
        const deps: BackfillDeps = { config, kafka, admin, registry, control, logger: ctx.logger };
        await admin.connect();
        try {
          if (opts.status) {
            const report = await backfillStatus(deps);
            process.stdout.write(opts.json ? `${toJson(report)}\n` : formatStatus(report));
            return;
          }
          const request = {
            timeZone: opts.timeZone,
            rulesVersion: opts.rulesVersion,
            from,
            rederive: opts.rederive === true,
          };
          const plan = await planBackfill(deps, request);
          if (!opts.execute || plan.action.kind === 'finished') {
            process.stdout.write(opts.json ? `${toJson(plan)}\n` : formatPlan(plan, config.topics.bronze));
            return;
          }
          if (!opts.json)
            process.stdout.write(formatPlan(plan, config.topics.bronze).replace(/^.*\n/, '') + '\n');
          await execute(deps, plan, switchTimeoutMs, opts.json === true, ctx.logger, ctx.shutdownTimeoutMs);
        } finally {
          await control.close();
          await admin.disconnect();
        }
      }),
    );
}

async function execute(
  deps: BackfillDeps,
  plan: Awaited<ReturnType<typeof planBackfill>>,
  switchTimeoutMs: number,
  json: boolean,
  logger: BackfillDeps['logger'],
  shutdownTimeoutMs: number,
): Promise<void> {
  // The shared shutdown: the first signal stops after the running transaction (within
  // SHUTDOWN_TIMEOUT_MS, whatever state the broker is in; the same command resumes), a second
  // one exits at once.
  const shutdown = new Shutdown({ timeoutMs: shutdownTimeoutMs, logger });
  const abort = { signal: shutdown.signal };
  let running: Promise<unknown> = Promise.resolve();
  void shutdown.requested.then(async (signal) => {
    process.stderr.write(`\n${signal}: stopping after the running transaction; the same command resumes\n`);
    const outcome = await shutdown.stop({
      close: () =>
        running.then(
          () => undefined,
          () => undefined,
        ),
    });
    if (outcome.timedOut) process.exit(EXIT_INTERRUPTED);
  });
  const progress = backfillProgressReporter(logger, plan.epoch);
  let lastWaitNote = 0;
  try {
    const work = executeBackfill(deps, plan, {
      switchTimeoutMs,
      signal: abort.signal,
      onSwitchWaiting: (pending) => {
        if (Date.now() - lastWaitNote < 5000) return;
        lastWaitNote = Date.now();
        process.stderr.write(
          `waiting for ${pending.length} live enricher member(s) to switch to epoch ${plan.epoch}: ${pending.map(describeMember).join('; ')}\n`,
        );
      },
      onRunning: (state) =>
        logger.info(
          { epoch: state.epoch, group: state.group_id, partitions: state.partitions },
          'range captured; re-deriving',
        ),
      onProgress: (p) => progress.update(p),
    });
    running = work;
    const finished = await work;
    progress.stop();
    if (finished === null) {
      process.stderr.write('backfill interrupted; run the same command again to resume it\n');
      process.exitCode = EXIT_INTERRUPTED;
      return;
    }
    process.stdout.write(json ? `${JSON.stringify(finished, null, 2)}\n` : formatFinished(finished));
  } catch (err) {
    progress.stop();
    if (abort.signal.aborted) {
      process.stderr.write(
        `backfill interrupted (${errorMessage(err)}); run the same command again to resume it\n`,
      );
      process.exitCode = EXIT_INTERRUPTED;
      return;
    }
    throw err;
  } finally {
    if (!shutdown.stopping) shutdown.dispose();
  }
}
