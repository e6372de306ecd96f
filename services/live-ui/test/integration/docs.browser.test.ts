/// <reference lib="dom" />
import type { FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { waitFor } from '@cdc/core';
import { standaloneApp } from '../fixtures/standalone-app';
import { launchBrowser, screenshotPath } from './helpers';

/**
 * The browsable API description (/api/docs) in headless Chromium: it renders every operation
 * from this server alone (no request leaves it: it works offline) and nothing is blocked by the
 * Content-Security-Policy. The app is the server's composition without Kafka or a database.
 */
describe('the API docs page in headless Chromium', () => {
  let app: FastifyInstance;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let url: string;

  beforeAll(async () => {
    app = await standaloneApp();
    await app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('lists every operation, loading nothing from elsewhere and breaking no CSP rule', async () => {
    const page = await browser.context.newPage();
    const problems: string[] = [];
    const foreign: string[] = [];
    page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error' || /Content Security Policy/i.test(msg.text())) problems.push(msg.text());
    });
    page.on('request', (req) => {
      if (!req.url().startsWith(url) && !req.url().startsWith('data:')) foreign.push(req.url());
    });
    await page.goto(`${url}/api/docs/`);
    const paths = Object.keys(app.swagger().paths ?? {});
    await waitFor(async () => (await page.locator('.opblock-summary-path').count()) >= paths.length, {
      timeoutMs: 15_000,
      intervalMs: 100,
      what: 'the operations to render',
    });
    const shown = await page
      .locator('.opblock-summary-path')
      .evaluateAll((els) => els.map((el) => el.getAttribute('data-path')));
    expect(new Set(shown)).toEqual(new Set(paths));
    await page.locator('.opblock-summary').first().click();
    await page.waitForSelector('.opblock-body');
    await page.screenshot({ path: screenshotPath('08-api-docs'), fullPage: true });
    expect(problems).toEqual([]);
    expect(foreign).toEqual([]);
    await page.close();
  });
});
