import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadEnvFile } from '../../src/main';

describe('.env files', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cdc-env-'));
  const saved = { ...process.env };
  afterEach(() => {
    for (const k of ['CDC_ENV_FILE', 'CDC_TEST_FROM_FILE', 'CDC_TEST_REAL']) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads KEY=value lines; the real environment wins', () => {
    const file = path.join(dir, 'test.env');
    writeFileSync(file, '# comment\nCDC_TEST_FROM_FILE="from file"\nCDC_TEST_REAL=file\n');
    process.env.CDC_TEST_REAL = 'real';
    process.env.CDC_ENV_FILE = file;
    loadEnvFile();
    expect(process.env.CDC_TEST_FROM_FILE).toBe('from file');
    expect(process.env.CDC_TEST_REAL).toBe('real');
  });

  it('a file named by CDC_ENV_FILE must exist', () => {
    process.env.CDC_ENV_FILE = path.join(dir, 'missing.env');
    expect(() => loadEnvFile()).toThrow(/CDC_ENV_FILE=.*missing\.env: no such file/);
  });
});
