import { existsSync } from 'node:fs';
import path from 'node:path';
import { CdcError } from './errors';

/**
 * The compiled script of a worker thread named `name` (e.g. 'lane-worker'), for a module in
 * `dir`: next to it in dist/, or, when the caller runs from src/ (ts-jest), in ../dist/.
 */
export function workerScript(dir: string, name: string): string {
  for (const f of [path.join(dir, `${name}.js`), path.resolve(dir, `../dist/${name}.js`)]) {
    if (existsSync(f)) return f;
  }
  throw new CdcError('CONFIG_INVALID', `${name}.js is missing (not built): run \`npx tsc -b\``);
}
