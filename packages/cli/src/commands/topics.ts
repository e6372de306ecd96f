import type { Command } from 'commander';
import { commandContext } from '../context';
import { intOption, run } from '../run';
import { checkSchemas, createTopics, registerSchemas } from '../setup';

export function registerTopicCommands(program: Command): void {
  program
    .command('topics')
    .description("the contract's topics")
    .command('create')
    .description(
      'create the bronze, silver, dead-letter and (compacted) gold topics if missing; register the schemas',
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

  const schemas = program.command('schemas').description('the Avro schemas in schemas/');
  schemas
    .command('register')
    .description('register every schema under its topic subject (BACKWARD compatible)')
    .action(() =>
      run(async () => {
        const ids = await registerSchemas(commandContext('schemas').connection);
        for (const [subject, id] of Object.entries(ids)) process.stdout.write(`${subject} id ${id}\n`);
      }),
    );
  schemas
    .command('check')
    .description('check every schema is BACKWARD compatible with what the registry holds; exit 1 if not')
    .action(() =>
      run(async () => {
        const results = await checkSchemas(commandContext('schemas').connection);
        for (const r of results) {
          process.stdout.write(`${r.result.padEnd(14)} ${r.schema} -> ${r.subject}\n`);
          for (const m of r.messages) process.stdout.write(`    ${m}\n`);
        }
        if (results.some((r) => r.result === 'incompatible')) process.exitCode = 1;
      }),
    );
}
