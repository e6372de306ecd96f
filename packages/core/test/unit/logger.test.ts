import { spawnSync } from 'node:child_process';
import path from 'node:path';

/** Runs a logger in a child process (it writes to fd 2) and returns its JSON lines. */
function logLines(format: 'pino' | 'iso'): Record<string, unknown>[] {
  const core = path.resolve(__dirname, '../../dist/index.js');
  const script = `
    const { createLogger, UnavailableError } = require(${JSON.stringify(core)});
    const log = createLogger('test', 'info', ${JSON.stringify(format)});
    log.error({ err: new UnavailableError('broker', 'broker down', new Error('ECONNREFUSED')) }, 'send failed');
  `;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  return r.stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('logs', () => {
  it("errors keep type, message, stack and a CdcError's code (pino's err serializer)", () => {
    const [line] = logLines('pino');
    expect(line).toMatchObject({ level: 50, msg: 'send failed', service: 'test' });
    expect(typeof line!.time).toBe('number');
    const err = line!.err as Record<string, unknown>;
    expect(err).toMatchObject({ type: 'UnavailableError', code: 'UNAVAILABLE', dependency: 'broker' });
    expect(err.message).toMatch(/^broker down/);
    expect(err.stack).toMatch(/UnavailableError: broker down\n\s+at /);
  });

  it('LOG_FORMAT=iso: ISO-8601 times and level names', () => {
    const [line] = logLines('iso');
    expect(line).toMatchObject({ level: 'error', msg: 'send failed' });
    expect(line!.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });
});
