import type { Command } from 'commander';
import { commandContext } from '../context';
import { intOption, run } from '../run';
import { createTopics, registerSchemas } from '../setup';

export function registerTopicCommands(program: Command): void {
  program
    .command('topics')
    .description("the contract's topics")
    .command('create')
    .description(
      'create the bronze, silver, dead-letter and (compacted) gold topics if missing; register the schemas (as `cdc schemas register`)',
    )
    .option('-p, --partitions <n>', 'partitions per topic', intOption('--partitions', 1, 1000), 3)
    .action((opts: { partitions: number }) =>
      run(async () => {
        const ctx = commandContext('topics');
        const created = await createTopics(ctx.connection, ctx.logger, opts.partitions);
        const ids = await registerSchemas(ctx.connection);
        process.stdout.write(created.length ? `created ${created.join(', ')}\n` : 'all topics exist\n');
        for (const [subject, id] of Object.entries(ids)) process.stdout.write(`schema ${subject} id ${id}\n`);
      }),
    );
}
