import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { Command, CommanderError } from 'commander';
import { registerAclsCommand } from './commands/acls';
import { ConfigError, errorMessage } from '@cdc/core';
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
import { settingsHelp } from './settings';

/** `cdc <command>`: the one command-line entry point of the pipeline. */
export function buildProgram(output?: {
  writeOut: (s: string) => void;
  writeErr: (s: string) => void;
}): Command {
  const program = new Command('cdc')
    .description('Movie-booking CDC pipeline on Apache Kafka')
    .version(version(), '-V, --version', 'print the version of cdc and of Node.js it runs on')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  if (output) program.configureOutput(output);
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
  registerAclsCommand(program);
  for (const command of program.commands) addSettingsHelp(command, command.name());
  return program;
}

/** Each command's --help ends with the environment variables it reads (subcommands: their parent's). */
function addSettingsHelp(command: Command, topLevel: string): void {
  if (command.commands.length === 0) command.addHelpText('after', settingsHelp(topLevel));
  for (const sub of command.commands) addSettingsHelp(sub, topLevel);
}

/** The root package's version (the product's), with the Node.js it runs on. */
function version(): string {
  const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
  return `cdc ${pkg.version} (Node.js ${process.versions.node})`;
}

const REPO_ROOT = path.resolve(__dirname, '../../..');

/**
 * Reads `.env` (or CDC_ENV_FILE) with Node's own parser (`util.parseEnv`, as `node --env-file`): variables already in the environment
 * win, so a .env holds defaults a shell or a service manager overrides. Children of `cdc start`
 * inherit the result.
 */
export function loadEnvFile(env: NodeJS.ProcessEnv = process.env): void {
  const named = env.CDC_ENV_FILE;
  const file = path.resolve(named ?? '.env');
  if (!existsSync(file)) {
    if (named) throw new ConfigError(`CDC_ENV_FILE=${named}: no such file`);
    return;
  }
  let parsed: Record<string, string>;
  try {
    parsed = parseEnv(readFileSync(file, 'utf8')) as Record<string, string>;
  } catch (err) {
    throw new ConfigError(`cannot read the environment file ${file}: ${errorMessage(err)}`);
  }
  for (const [key, value] of Object.entries(parsed)) env[key] ??= value;
}

export async function main(argv: string[]): Promise<void> {
  try {
    loadEnvFile();
  } catch (err) {
    process.stderr.write(`error [CONFIG_INVALID]: ${errorMessage(err)}\n`);
    process.exitCode = EXIT_USAGE;
    return;
  }
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
