import path from 'node:path';
import { createLogger, waitFor } from '@cdc/core';
import { createTestContext, type TestContext } from '@cdc/testing';
import { loadLiveUiConfig, startLiveUi, type LiveUiServer } from '../../src';
import { PipelineData } from '../fixtures/pipeline-data';
import { launchBrowser, tempDir } from './helpers';

/**
 * The dead-letter page in Debian's Chromium: the pipeline panel's count links to it, it lists the
 * dead-letter topic's records newest first, and the error-code filter narrows them (kept in the
 * address). The server runs in process on the real broker.
 */
describe('the dead-letter page', () => {
  let ctx: TestContext;
  let server: LiveUiServer | undefined;
  let tmp: ReturnType<typeof tempDir>;
  let data: PipelineData | undefined;

  beforeAll(async () => {
    ctx = await createTestContext({ name: 'ui-dlq' });
    tmp = tempDir('dlq');
    const dbPath = path.join(tmp.dir, 'aggregator.db');
    data = PipelineData.open(dbPath);
    const headers = (code: string, offset: string) => ({
      'dlq.error.code': code,
      'dlq.error.message': `<b>why</b> ${offset}`,
      'dlq.source.topic': ctx.topics.bronze,
      'dlq.source.partition': '0',
      'dlq.source.offset': offset,
      'dlq.source.timestamp': '0',
    });
    const producer = ctx.track(ctx.kafka.producer());
    await producer.connect();
    await producer.send({
      topic: ctx.topics.deadLetter,
      messages: [
        { key: 'K1', value: Buffer.from('bad'), headers: headers('WRONG_MAGIC_BYTE', '3'), partition: 0 },
        {
          key: 'K2',
          value: Buffer.from([0, 0, 0, 0, 9]),
          headers: headers('UNKNOWN_SCHEMA_ID', '4'),
          partition: 0,
        },
      ],
    });
    server = await startLiveUi({
      config: loadLiveUiConfig({ UI_HEALTH_INTERVAL_MS: '500' }, { port: 0, dbPath }),
      connection: ctx.connection,
      logger: createLogger('live-ui', 'silent'),
    });
    await server.ready;
  });

  afterAll(async () => {
    await server?.stop();
    data?.close();
    await ctx?.cleanup();
    tmp?.remove();
  });

  it('is linked from the pipeline panel, lists the dead letters as text and filters them by code', async () => {
    const browser = await launchBrowser();
    try {
      const page = await browser.context.newPage();
      await page.goto(server!.url);
      const link = page.locator('#health-dlq');
      await waitFor(async () => (await link.textContent()) === '2', {
        timeoutMs: 30_000,
        what: 'the count of 2',
      });
      await link.click();
      await page.waitForURL(/dead-letters\.html$/);
      await waitFor(async () => (await page.locator('#dlq-count').textContent()) === '2 dead letters', {
        timeoutMs: 30_000,
        what: 'two dead letters listed',
      });
      const rows = page.locator('#dlq-table tbody tr');
      expect(await rows.count()).toBe(2);
      const first = await rows.nth(0).locator('td').allTextContents();
      expect(first[0]).toBe('0/1');
      expect(first[2]).toBe('UNKNOWN_SCHEMA_ID');
      expect(first[3]).toBe('<b>why</b> 4'); // text, not markup
      expect(first[4]).toBe(`${ctx.topics.bronze} 0/4`);
      await page.locator('#dlq-code').selectOption('WRONG_MAGIC_BYTE');
      await waitFor(async () => (await page.locator('#dlq-count').textContent()) === '1 dead letter', {
        timeoutMs: 10_000,
        what: 'the filter applied',
      });
      expect(await rows.count()).toBe(1);
      expect(page.url()).toContain('code=WRONG_MAGIC_BYTE');
    } finally {
      await browser.close();
    }
  });
});
