import type { Command } from 'commander';
import { commandContext } from '../context';
import { run } from '../run';
import { checkSchemas, registerSchemas } from '../setup';

/** `cdc schemas register|check`: the only place compatibility levels are set (services never do). */
export function registerSchemaCommands(program: Command): void {
  const schemas = program.command('schemas').description('the Avro schemas in schemas/');
  schemas
    .command('register')
    .description('set each topic subject to BACKWARD compatibility and register its schema')
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
