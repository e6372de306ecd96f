import { Command, CommanderError } from 'commander';
import { registerAggregateCommand } from './commands/aggregate';
import { registerAlertsCommand } from './commands/alerts';
import { registerBackfillCommand } from './commands/backfill';
import { registerCaptureCommand } from './commands/capture';
import { registerDlqCommands } from './commands/dlq';
import { registerEnrichCommand } from './commands/enrich';
import { registerImportCommand } from './commands/import';
import { registerProduceCommand } from './commands/produce';
import { registerSchemaCommands } from './commands/schemas';
import { registerSourceCommands } from './commands/source';
import { registerStackCommands } from './commands/stack';
import { registerStartCommand } from './commands/start';
import { registerStatusCommand } from './commands/status';
import { registerTopicCommands } from './commands/topics';
import { registerUiCommand } from './commands/ui';
import { EXIT_USAGE } from './run';

/** `cdc <command>`: the one command-line entry point of the pipeline. */
export function buildProgram(): Command {
  const program = new Command('cdc')
    .description('Movie-booking CDC pipeline on Apache Kafka')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerStackCommands(program);
  registerTopicCommands(program);
  registerSchemaCommands(program);
  registerProduceCommand(program);
  registerImportCommand(program);
  registerSourceCommands(program);
  registerCaptureCommand(program);
  registerEnrichCommand(program);
  registerDlqCommands(program);
  registerBackfillCommand(program);
  registerAggregateCommand(program);
  registerUiCommand(program);
  registerAlertsCommand(program);
  registerStartCommand(program);
  registerStatusCommand(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? 0 : EXIT_USAGE;
      return;
    }
    throw err;
  }
}
