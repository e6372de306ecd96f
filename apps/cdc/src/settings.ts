import path from 'node:path';
import { z } from 'zod';
import { connectionSchema, describeSettings, type SettingDoc, type SettingsSchema } from '@cdc/core';
import { aggregatorSchema } from '@cdc/aggregator';
import { alertsSchema } from '@cdc/alerts';
import { captureSchema } from '@cdc/capture';
import { enricherSchema } from '@cdc/enricher';
import { liveUiEnvSchema } from '@cdc/live-ui';
import { shutdownSchema } from '@cdc/observe';
import { sourceStackSchema, stackSchema } from '@cdc/stack';
import { backfillSchema } from './commands/backfill';
import { startSchema } from './commands/start';
import { statusSchema } from './commands/status';

/**
 * Which environment variables each command reads: the schemas that validate them. `--help` of
 * every command and docs/configuration.md (`npm run docs:config`) are generated from this table,
 * and a unit test checks that they list every variable. A command that reads a new schema (or a
 * schema that gains a field with its `.describe()`) is one line here; nothing else to update.
 */

/** The command line's own settings. */
export const cliSchema = z.object({
  CDC_ENV_FILE: z
    .string()
    .min(1)
    .default('.env')
    .describe(
      'file of KEY=value lines read at start (a missing .env is fine, a missing file named here is an error); the real environment wins',
    ),
  CDC_DEBUG: z
    .string()
    .optional()
    .describe('set (to anything) to print the stack trace of a failing command'),
});

/** Read by every command: its connection, the local stack it may start, its logs and shutdown. */
export const COMMON_SCHEMAS: readonly SettingsSchema[] = [
  cliSchema,
  connectionSchema,
  stackSchema,
  shutdownSchema,
];

const SERVICES: readonly SettingsSchema[] = [enricherSchema, aggregatorSchema, liveUiEnvSchema, alertsSchema];

/** By top-level command: the schemas it reads beyond the common ones. */
export const COMMAND_SCHEMAS: Record<string, readonly SettingsSchema[]> = {
  enrich: [enricherSchema],
  aggregate: [aggregatorSchema],
  ui: [liveUiEnvSchema],
  alerts: [alertsSchema],
  backfill: [backfillSchema],
  capture: [captureSchema],
  source: [sourceStackSchema],
  status: [statusSchema],
  // `cdc start` passes its environment to every service it runs.
  start: [startSchema, ...SERVICES, captureSchema, sourceStackSchema],
  stack: [sourceStackSchema],
};

/** Every variable a command reads, each once (the first schema that reads it describes it). */
export function commandSettings(command: string): SettingDoc[] {
  const schemas = [...COMMON_SCHEMAS, ...(COMMAND_SCHEMAS[command] ?? [])];
  const seen = new Map<string, SettingDoc>();
  for (const doc of schemas.flatMap(describeSettings)) if (!seen.has(doc.name)) seen.set(doc.name, doc);
  return [...seen.values()];
}

/** Every variable any command reads, with the commands that read it. */
export function allSettings(commands: readonly string[]): { doc: SettingDoc; commands: string[] }[] {
  const byName = new Map<string, { doc: SettingDoc; commands: string[] }>();
  for (const command of commands) {
    for (const doc of commandSettings(command)) {
      const entry = byName.get(doc.name) ?? { doc, commands: [] };
      entry.commands.push(command);
      byName.set(doc.name, entry);
    }
  }
  return [...byName.values()];
}

/** `--help`'s list of a command's environment variables. */
export function settingsHelp(command: string): string {
  const docs = commandSettings(command);
  const width = Math.max(...docs.map((d) => d.name.length));
  const lines = docs.map(
    (d) =>
      `  ${d.name.padEnd(width)}  ${d.description}${d.defaultValue ? ` (default ${shownDefault(d.defaultValue)})` : ''}`,
  );
  return `\nEnvironment variables (options override them; docs/configuration.md):\n${lines.join('\n')}\n`;
}

/** Defaults under the repository (stack home, rules file) shown relative to it. */
export function shownDefault(value: string): string {
  const root = path.resolve(__dirname, '../../..');
  return value.startsWith(root + path.sep) ? path.relative(root, value) : value;
}
