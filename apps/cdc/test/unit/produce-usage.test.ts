import { main } from '@cdc/cli';

/** `cdc produce` with bad options fails before touching the network: usage error, exit 2. */
async function cdc(...args: string[]): Promise<{ code: number; stderr: string; stdout: string }> {
  const err: string[] = [];
  const out: string[] = [];
  const e = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    err.push(String(chunk));
    return true;
  });
  const o = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
  const before = process.exitCode;
  process.exitCode = undefined;
  try {
    await main(['node', 'cdc', ...args]);
    return { code: Number(process.exitCode ?? 0), stderr: err.join(''), stdout: out.join('') };
  } finally {
    process.exitCode = before;
    e.mockRestore();
    o.mockRestore();
  }
}

describe('cdc produce (command line)', () => {
  it('rejects an unknown option with exit 2, naming it', async () => {
    const r = await cdc('produce', '--speed', '10');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown option '--speed'");
  });

  it('rejects a bad value with exit 2, naming the option', async () => {
    const r = await cdc('produce', '--rate', 'fast');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--rate must be a positive number');
  });

  it('rejects contradictory options with exit 2', async () => {
    expect((await cdc('produce', '--count', '5', '--duration', '2s')).stderr).toContain(
      '--count and --duration cannot be combined',
    );
    const r = await cdc('produce', '--scenario', 'seed', '--mix', 'create=100');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--mix cannot be combined with --scenario');
    expect((await cdc('produce', '--list-scenarios', '--count', '3')).code).toBe(2);
    expect((await cdc('produce', 'extra-argument')).code).toBe(2);
  });

  it('lists the scenarios', async () => {
    const r = await cdc('produce', '--list-scenarios');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^seed\s+The contract's worked example/m);
  });
});
