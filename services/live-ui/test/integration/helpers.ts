import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { startCdc, type CdcProcess } from '@cdc/testing';

export const REPO_ROOT = path.resolve(__dirname, '../../../..');
export const RESULTS_DIR = path.join(REPO_ROOT, 'test-results', 'live-ui');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function tempDir(name: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), `live-ui-${name}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Headless Debian Chromium through playwright-core, with a fresh profile. */
export async function launchBrowser(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = tempDir('profile');
  const context = await chromium.launchPersistentContext(profile.dir, {
    executablePath: CHROMIUM,
    headless: true,
    acceptDownloads: true,
    viewport: { width: 1440, height: 1100 },
    reducedMotion: 'reduce',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      profile.remove();
    },
  };
}

export function screenshotPath(name: string): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  return path.join(RESULTS_DIR, `${name}.png`);
}

/** `node bin/cdc.js ui` as a child process (the real command), stopped or killed by the test. */
export class UiProcess {
  private proc: CdcProcess | null = null;

  constructor(
    readonly port: number,
    private readonly env: Record<string, string>,
    private readonly dbPath: string,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Everything the current (or last) process wrote. */
  get output(): string {
    return this.proc ? this.proc.stderr() + this.proc.stdout() : '';
  }

  async start(): Promise<void> {
    const proc = startCdc(['ui', '--port', String(this.port), '--db', this.dbPath], { env: this.env });
    this.proc = proc;
    await proc.waitFor(async () => (await fetch(`${this.url}/healthz`).catch(() => null))?.status === 200, {
      timeoutMs: 30_000,
      intervalMs: 200,
      what: 'cdc ui to be ready',
    });
  }

  /** SIGKILL: no clean shutdown, connections just drop. */
  async kill(): Promise<void> {
    await this.proc?.kill();
  }

  /** SIGTERM: the exit code of a clean shutdown. */
  async stop(): Promise<number | null> {
    if (!this.proc?.running()) return this.proc ? this.proc.exited : null;
    return this.proc.stop('SIGTERM');
  }
}
