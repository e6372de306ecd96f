import type { Command } from 'commander';
import {
  ensureConnectDistribution,
  ensureDistributions,
  sourceStackConfig,
  sourceStackDown,
  sourceStackStatus,
  sourceStackUp,
  stackDown,
  stackStatus,
  stackUp,
  type SourceComponentStatus,
  type StackStatus,
} from '@cdc/stack';
import { UsageError } from '@cdc/core';
import { commandContext } from '../context';
import { run } from '../run';

export function printStatus(s: StackStatus): void {
  const out = process.stdout;
  if (s.external) {
    out.write(
      `external stack (KAFKA_BROKERS, SCHEMA_REGISTRY_URL)\n  kafka     ${s.brokers}\n  registry  ${s.registryUrl}\n`,
    );
    return;
  }
  for (const c of s.components) {
    out.write(
      `${c.name.padEnd(9)} ${c.running ? `running  pid ${String(c.pid).padEnd(8)}` : 'stopped              '} ${c.address}\n`,
    );
    out.write(`${''.padEnd(9)} log ${c.logFile}\n`);
  }
}

export function printSourceStatus(components: SourceComponentStatus[]): void {
  for (const c of components) {
    process.stdout.write(
      `${c.name.padEnd(9)} ${c.running ? `running  pid ${String(c.pid).padEnd(8)}` : 'stopped              '} ${c.address}\n`,
    );
    process.stdout.write(`${''.padEnd(9)} log ${c.logFile}\n`);
  }
}

export function sourceOption(value: string | undefined): 'postgres' | undefined {
  if (value === undefined || value === 'postgres') return value;
  throw new UsageError(`--source ${value}: the only source is 'postgres'`);
}

export function registerStackCommands(program: Command): void {
  const stack = program
    .command('stack')
    .description('the local Kafka broker (KRaft) and schema registry (Apicurio), fetched from Maven Central');
  stack
    .command('fetch')
    .description('download Kafka and the schema registry from Maven Central into the stack folder (once)')
    .option('--source <kind>', "also Kafka Connect and the Debezium connector: 'postgres'")
    .action((opts: { source?: string }) =>
      run(async () => {
        const source = sourceOption(opts.source);
        const ctx = commandContext('stack');
        const d = ensureDistributions(ctx.stack.home, ctx.logger, ctx.stack.kafkaVersion);
        process.stdout.write(`kafka     ${d.kafkaLibDir}\nregistry  ${d.registryJar}\n`);
        if (source) {
          const c = ensureConnectDistribution(ctx.stack.home, ctx.logger);
          process.stdout.write(`connect   ${c.connectLibDir}\nplugins   ${c.pluginPath}\n`);
        }
      }),
    );
  stack
    .command('up')
    .description('fetch (once) and start Kafka and the schema registry; returns when both answer')
    .option(
      '--source <kind>',
      "also start the source: 'postgres' (PostgreSQL with the bookings table, unless DATABASE_URL is set, and Kafka Connect with Debezium)",
    )
    .action((opts: { source?: string }) =>
      run(async () => {
        const source = sourceOption(opts.source);
        const ctx = commandContext('stack');
        const status = await stackUp(ctx.stack, ctx.logger);
        printStatus(status);
        if (source)
          printSourceStatus(await sourceStackUp(ctx.stack, sourceStackConfig(), status.brokers, ctx.logger));
      }),
    );
  stack
    .command('down')
    .description(
      'stop Kafka, the schema registry and, when running, PostgreSQL and Kafka Connect (their data is kept)',
    )
    .action(() =>
      run(async () => {
        const ctx = commandContext('stack');
        const source = sourceStackConfig();
        await sourceStackDown(ctx.stack, source, ctx.logger);
        await stackDown(ctx.stack, ctx.logger);
        printStatus(stackStatus(ctx.stack));
        printSourceStatus(sourceStackStatus(ctx.stack, source));
      }),
    );
  stack
    .command('status')
    .description('say what runs where')
    .action(() =>
      run(async () => {
        const { stack: config } = commandContext('stack');
        printStatus(stackStatus(config));
        printSourceStatus(sourceStackStatus(config, sourceStackConfig()).filter((c) => c.running));
      }),
    );
}
