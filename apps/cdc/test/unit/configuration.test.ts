import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CommanderError, type Command } from 'commander';
import { describeSettings } from '@cdc/core';
import { renderConfigurationDocs } from '../../src/configuration-docs';
import { buildProgram } from '../../src/main';
import { COMMAND_SCHEMAS, COMMON_SCHEMAS, commandSettings } from '../../src/settings';

const DOCS = path.resolve(__dirname, '../../../../docs/configuration.md');

/** Every command a user can run, as its words: ['stack', 'up'], ['produce'], ... */
function leafCommands(command: Command, words: string[] = []): string[][] {
  if (command.commands.length === 0) return [words];
  return command.commands.flatMap((c) => leafCommands(c, [...words, c.name()]));
}

/** `cdc <words> --help`, run as the command line runs it, its output captured. */
async function help(words: string[]): Promise<string> {
  let out = '';
  const program = buildProgram({ writeOut: (s) => (out += s), writeErr: (s) => (out += s) });
  try {
    await program.parseAsync(['node', 'cdc', ...words, '--help']);
  } catch (err) {
    if (!(err instanceof CommanderError) || err.code !== 'commander.helpDisplayed') throw err;
  }
  return out;
}

describe('configuration: one schema validates, documents and lists every setting', () => {
  const commands = leafCommands(buildProgram());
  const docs = readFileSync(DOCS, 'utf8');

  it('finds the commands', () => {
    expect(commands.map((w) => w.join(' '))).toEqual(expect.arrayContaining(['start', 'enrich', 'stack up']));
  });

  it.each(commands.map((w) => [w.join(' '), w] as const))(
    '`cdc %s --help` lists every variable the command reads, and docs/configuration.md has each',
    async (_name, words) => {
      const text = await help(words);
      const names = commandSettings(words[0]!).map((d) => d.name);
      expect(names.length).toBeGreaterThan(10);
      expect(names.filter((n) => !new RegExp(`\\b${n}\\b`).test(text))).toEqual([]);
      expect(names.filter((n) => !docs.includes(`\`${n}\``))).toEqual([]);
    },
  );

  it('every setting says what it does', () => {
    const schemas = [...COMMON_SCHEMAS, ...Object.values(COMMAND_SCHEMAS).flat()];
    const undescribed = schemas.flatMap(describeSettings).filter((d) => d.description.length < 10);
    expect(undescribed.map((d) => d.name)).toEqual([]);
  });

  it('docs/configuration.md is current (regenerate: npm run docs:config)', () => {
    const names = buildProgram().commands.map((c) => c.name());
    // Formatted as `npm run docs:config` writes it (prettier runs in its own process: it is ESM inside).
    const prettier = require.resolve('prettier/bin/prettier.cjs');
    const expected = execFileSync(process.execPath, [prettier, '--stdin-filepath', DOCS], {
      input: renderConfigurationDocs(names),
      encoding: 'utf8',
    });
    expect(docs).toBe(expected);
  });

  it('cdc --version names the product version and Node.js', async () => {
    let out = '';
    const program = buildProgram({ writeOut: (s) => (out += s), writeErr: (s) => (out += s) });
    await expect(program.parseAsync(['node', 'cdc', '--version'])).rejects.toThrow(CommanderError);
    expect(out).toMatch(/^cdc \d+\.\d+\.\d+ \(Node\.js \d+\.\d+\.\d+\)\n$/);
  });
});
