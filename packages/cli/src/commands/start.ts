import type { Command } from 'commander';
import { stackUp } from '@cdc/stack';
import { commandContext } from '../context';
import { intOption, run } from '../run';
import { createTopics, registerSchemas } from '../setup';
import { printStatus } from './stack';

export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description('start the whole pipeline: stack, topics and schemas')
    .option(
      '-p, --partitions <n>',
      'partitions per topic when creating them',
      intOption('--partitions', 1, 1000),
      3,
    )
    .action((opts: { partitions: number }) =>
      run(async () => {
        const ctx = commandContext('start');
        printStatus(await stackUp(ctx.stack, ctx.logger));
        const created = await createTopics(ctx.connection, ctx.logger, opts.partitions);
        if (created.length) process.stdout.write(`created ${created.join(', ')}\n`);
        await registerSchemas(ctx.connection);
        process.stdout.write('topics and schemas ready\n');
      }),
    );
}
