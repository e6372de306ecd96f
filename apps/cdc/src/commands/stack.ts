import type { Command } from 'commander';
import { ensureDistributions, stackDown, stackStatus, stackUp, type StackStatus } from '@cdc/stack';
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

export function registerStackCommands(program: Command): void {
  const stack = program
    .command('stack')
    .description('the local Kafka broker (KRaft) and schema registry (Apicurio), fetched from Maven Central');
  stack
    .command('fetch')
    .description('download Kafka and the schema registry from Maven Central into the stack folder (once)')
    .action(() =>
      run(async () => {
        const ctx = commandContext('stack');
        const d = ensureDistributions(ctx.stack.home, ctx.logger, ctx.stack.kafkaVersion);
        process.stdout.write(`kafka     ${d.kafkaLibDir}\nregistry  ${d.registryJar}\n`);
      }),
    );
  stack
    .command('up')
    .description('fetch (once) and start Kafka and the schema registry; returns when both answer')
    .action(() =>
      run(async () => {
        const ctx = commandContext('stack');
        printStatus(await stackUp(ctx.stack, ctx.logger));
      }),
    );
  stack
    .command('down')
    .description('stop Kafka and the schema registry (their data is kept)')
    .action(() =>
      run(async () => {
        const ctx = commandContext('stack');
        await stackDown(ctx.stack, ctx.logger);
        printStatus(stackStatus(ctx.stack));
      }),
    );
  stack
    .command('status')
    .description('say what runs where')
    .action(() =>
      run(async () => {
        printStatus(stackStatus(commandContext('stack').stack));
      }),
    );
}
