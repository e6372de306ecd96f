/// <reference lib="dom" />
import path from 'node:path';
import type { Page } from 'playwright-core';
import { createEncoder, createRegistryClient, loadSchema, valueSubject, type Alert } from '@cdc/core';
import { createTestContext, type TestContext } from '@cdc/testing';
import { PipelineData, seedWorkedExample, GoldProducer } from '../fixtures/pipeline-data';
import { freePort, launchBrowser, screenshotPath, tempDir, UiProcess } from './helpers';
import { ApiDescription } from './openapi-check';

/**
 * Alerts on the dashboard, in headless Chromium against `cdc ui` (a child process) and the real
 * broker: Alert records (as `cdc alerts` writes them) produced to the alerts topic show as a
 * banner and in the alerts panel without a reload; a resolved one greys out and the banner goes.
 * `GET /api/alerts` lists them with filters, as its OpenAPI description says.
 */
const LIVE_TIMEOUT_MS = 15_000;
const T = Date.UTC(2026, 0, 5, 12);

const alert = (movie: string, status: Alert['status'], rule = 'cancellation_spike'): Alert => ({
  alert_id: `${rule}/${movie}/${T}`,
  rule,
  rule_type: rule,
  subject: movie,
  movie_id: movie,
  status,
  severity: rule === 'cancellation_spike' ? 'warning' : 'info',
  labels: { team: 'bookings' },
  summary: `${movie}: 75 cancellations in 2m, baseline 17 (trailing): 4.4× the baseline`,
  value: 75,
  threshold: 52,
  baseline: 17,
  clock: 'EVENT',
  active_since: T,
  fired_at: T + 30_000,
  resolved_at: status === 'RESOLVED' ? T + 300_000 : null,
  transition_at: status === 'RESOLVED' ? T + 300_000 : T + 30_000,
  sequence: status === 'RESOLVED' ? 2 : 1,
});

const banner = (page: Page) =>
  page.evaluate(() => {
    const b = document.getElementById('alert-banner')!;
    return { hidden: b.hidden, text: b.textContent?.trim() ?? '' };
  });
const items = (page: Page) =>
  page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>('#alerts-list li')].map((li) => [
      li.dataset.alertId,
      li.dataset.status,
      getComputedStyle(li).opacity,
    ]),
  );

describe('alerts on the dashboard', () => {
  let ctx: TestContext;
  let tmp: ReturnType<typeof tempDir>;
  let data: PipelineData;
  let ui: UiProcess;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let page: Page;
  let send: (a: Alert) => Promise<void>;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    ctx = await createTestContext({ name: 'ui-alerts' });
    tmp = tempDir('alerts');
    const dbPath = path.join(tmp.dir, 'aggregator.db');
    data = PipelineData.open(dbPath);
    const gold = await GoldProducer.create(
      ctx.track(ctx.kafka.producer()),
      ctx.connection.registryUrl,
      ctx.topics.gold,
    );
    await gold.send(seedWorkedExample(data));
    const { text, type } = loadSchema('Alert');
    const encoder = await createEncoder<Alert>(
      createRegistryClient(ctx.connection.registryUrl),
      valueSubject(ctx.topics.alerts),
      text,
      type,
    );
    const producer = ctx.track(ctx.kafka.producer());
    await producer.connect();
    send = async (a) => {
      await producer.send({
        topic: ctx.topics.alerts,
        messages: [{ key: a.alert_id, value: encoder.encode(a) }],
      });
    };
    ui = new UiProcess(
      await freePort(),
      {
        KAFKA_BROKERS: ctx.connection.brokers.join(','),
        SCHEMA_REGISTRY_URL: ctx.connection.registryUrl,
        TOPIC_PREFIX: ctx.connection.topicPrefix,
        LOG_LEVEL: 'warn',
      },
      dbPath,
    );
    await ui.start();
    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.on('pageerror', (err) => pageErrors.push(`pageerror: ${err.message}`));
  });

  afterAll(async () => {
    await browser?.close();
    await ui?.stop();
    data?.close();
    await ctx?.cleanup();
    tmp?.remove();
  });

  it('the banner appears when an alert fires and disappears when it resolves, without a reload', async () => {
    await page.goto(ui.url);
    await page.waitForFunction(() => document.body.dataset.live === 'live', undefined, {
      timeout: LIVE_TIMEOUT_MS,
    });
    expect(await banner(page)).toEqual({ hidden: true, text: expect.any(String) as string });
    expect(await items(page)).toEqual([]);

    await send(alert('M012', 'FIRING'));
    await page.waitForFunction(() => !document.getElementById('alert-banner')!.hidden, undefined, {
      timeout: LIVE_TIMEOUT_MS,
    });
    const shown = await banner(page);
    expect(shown.text).toContain('1 alert firing: M012: 75 cancellations in 2m');
    expect(await items(page)).toEqual([[`cancellation_spike/M012/${T}`, 'FIRING', '1']]);
    await page.screenshot({ path: screenshotPath('alerts-firing'), fullPage: true });

    await send(alert('M012', 'RESOLVED'));
    await page.waitForFunction(() => document.getElementById('alert-banner')!.hidden, undefined, {
      timeout: LIVE_TIMEOUT_MS,
    });
    expect(await items(page)).toEqual([[`cancellation_spike/M012/${T}`, 'RESOLVED', '0.6']]);
    expect(pageErrors).toEqual([]);
  });

  it('GET /api/alerts lists them with filters, as described', async () => {
    await send(alert('M020', 'FIRING', 'booking_surge'));
    const api = await ApiDescription.load(ui.url);
    const get = async (q: string) => {
      const p = `/api/alerts${q}`;
      const res = await api.check('GET', p, await fetch(`${ui.url}${p}`));
      return { status: res.status, body: (await res.json()) as { alerts: Alert[]; error?: string } };
    };
    const ids = async (q: string) =>
      (await get(q)).body.alerts.map((a) => `${a.rule}/${a.subject}:${a.status}`);
    await page.waitForFunction(() => document.querySelectorAll('#alerts-list li').length === 2, undefined, {
      timeout: LIVE_TIMEOUT_MS,
    });
    expect(await ids('')).toEqual(['cancellation_spike/M012:RESOLVED', 'booking_surge/M020:FIRING']);
    expect(await ids('?status=firing')).toEqual(['booking_surge/M020:FIRING']);
    expect(await ids('?movie=M012,M999')).toEqual(['cancellation_spike/M012:RESOLVED']);
    expect(await ids('?rule=booking_surge&severity=info')).toEqual(['booking_surge/M020:FIRING']);
    expect(await ids('?limit=1')).toHaveLength(1);
    const bad = await get('?status=pending');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/status/);
    expect((await get('?colour=red')).status).toBe(400);
  });
});
