import path from 'node:path';
import type { Command } from 'commander';
import { describeLoss, errorMessage, waitFor } from '@cdc/core';
import { stackUp } from '@cdc/stack';
import { commandContext } from '../context';
import { intOption, run } from '../run';
import { createTopics, registerSchemas } from '../setup';
import { superviseChildren, type ChildSpec } from '../supervisor';
import { printStatus } from './stack';

interface StartOptions {
  partitions: number;
  rate: number;
  produce: boolean;
  uiPort: number;
  db: string;
}

/** The children of `cdc start`, in the order they start. */
export function pipelineChildren(o: StartOptions): ChildSpec[] {
  const children: ChildSpec[] = [
    { name: 'enricher', args: ['enrich'] },
    { name: 'aggregator', args: ['aggregate', '--db', o.db] },
    { name: 'live-ui', args: ['ui', '--db', o.db, '--port', String(o.uiPort)] },
    { name: 'alerts', args: ['alerts'] },
  ];
  if (o.produce)
    children.push({ name: 'producer', args: ['produce', '--rate', String(o.rate), '--no-progress'] });
  return children;
}

export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description(
      'start the whole pipeline: the local stack (unless KAFKA_BROKERS and SCHEMA_REGISTRY_URL are set), ' +
        'topics and schemas, enricher, aggregator, live dashboard and a gentle sample producer; Ctrl-C stops the services',
    )
    .option(
      '-p, --partitions <n>',
      'partitions per topic when creating them',
      intOption('--partitions', 1, 1000),
      3,
    )
    .option('--rate <events/s>', 'rate of the sample producer', intOption('--rate', 1, 1_000_000), 20)
    .option('--no-produce', 'do not run the sample producer (produce yourself with `npx cdc produce`)')
    .option('--ui-port <port>', 'port of the dashboard', intOption('--ui-port', 1, 65535), 8080)
    .option(
      '--db <path>',
      'the aggregator database, shared with the dashboard',
      process.env.AGGREGATOR_DB_PATH ?? 'data/aggregator.db',
    )
    .action((opts: StartOptions) =>
      run(async () => {
        const ctx = commandContext('start');
        printStatus(await stackUp(ctx.stack, ctx.logger));
        const topics = await createTopics(ctx.connection, ctx.logger, opts.partitions);
        if (topics.created.length) process.stdout.write(`created ${topics.created.join(', ')}\n`);
        for (const t of topics.losingHistory) {
          process.stderr.write(
            `warning: ${describeLoss(t)}: rebuilds and backfills cover only that window\n`,
          );
        }
        await registerSchemas(ctx.connection);

        const env = {
          ...process.env,
          KAFKA_BROKERS: ctx.connection.brokers.join(','),
          SCHEMA_REGISTRY_URL: ctx.connection.registryUrl,
          AGGREGATOR_DB_PATH: path.resolve(opts.db),
        };
        const supervisor = superviseChildren(pipelineChildren(opts), env, ctx.logger);
        const stopped = new Promise<void>((resolve) => {
          const stop = () => {
            process.stdout.write('\nstopping the pipeline services…\n');
            supervisor.stop().then(resolve, resolve);
          };
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });

        const url = `http://127.0.0.1:${opts.uiPort}`;
        const ready = waitFor(
          async () => (await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) })).ok,
          {
            timeoutMs: 60_000,
            intervalMs: 500,
            what: 'the dashboard',
          },
        );
        await Promise.race([
          ready.then(
            () =>
              process.stdout.write(
                `\n  Dashboard: ${url}\n  Stop: Ctrl-C (the broker and registry keep running; \`npx cdc stack down\` stops them)\n\n`,
              ),
            (err: unknown) =>
              ctx.logger.error(
                { err: errorMessage(err) },
                'the dashboard did not come up; see its log lines above',
              ),
          ),
          stopped,
        ]);
        await stopped;
      }),
    );
}
