/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { backfillRecord, settingsRecord, waitFor, type BackfillState } from '@cdc/core';
import { BOOKING_ROW_COLUMNS as BOOKING_COLUMNS } from '@cdc/read-model';
import { createTestContext, testControlClient, type TestContext } from '@cdc/testing';
import { parseCsv } from '../../src';
import {
  cancel,
  GoldProducer,
  PipelineData,
  seedWorkedExample,
  WORKED_EXAMPLE_CREATES,
} from '../fixtures/pipeline-data';
import { freePort, launchBrowser, screenshotPath, tempDir, UiProcess } from './helpers';

/**
 * The dashboard in real headless Chromium against `cdc ui` (a child process), the real broker
 * (gold topic) and a SQLite database written here the way the aggregator writes it.
 */
const LIVE_TIMEOUT_MS = 15_000;

/** The contract's worked example table, as the insights table shows it. */
const CONTRACT_TABLE = [
  ['M001', '1', '0', '1', '$0.00', '$30.00', 'GROUP', 'STANDARD', '100.00%', '1'],
  ['M002', '1', '1', '0', '$12.00', '$0.00', 'SINGLE', 'STANDARD', '0.00%', '0'],
  ['M003', '1', '0', '1', '$0.00', '$60.00', 'GROUP', 'STANDARD', '100.00%', '1'],
  ['M004', '1', '1', '0', '$100.00', '$0.00', 'GROUP', 'PREMIUM', '0.00%', '0'],
  ['M005', '1', '1', '0', '$10.00', '$0.00', 'SINGLE', 'STANDARD', '0.00%', '0'],
];

const cards = (page: Page) =>
  page.evaluate(() =>
    Object.fromEntries(
      [...document.querySelectorAll('[data-kpi]')].map((el) => [
        (el as HTMLElement).dataset.kpi!,
        el.textContent ?? '',
      ]),
    ),
  );

const tableRows = (page: Page, id: string) =>
  page.evaluate(
    (tableId) =>
      [...document.querySelectorAll(`#${tableId} tbody tr`)]
        .filter((tr) => !tr.querySelector('td.empty'))
        .map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')),
    id,
  );

const chartData = (page: Page, id: string) =>
  page.evaluate((canvasId) => {
    const chart = (
      window as unknown as {
        Chart: { getChart(id: string): { data: { labels: unknown[]; datasets: { data: unknown[] }[] } } };
      }
    ).Chart.getChart(canvasId);
    return { labels: chart.data.labels, data: chart.data.datasets.map((d) => d.data) };
  }, id);

/** Waits until `check` returns true, polling in the test (bounded, generous timeout). */
async function until(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = LIVE_TIMEOUT_MS,
): Promise<void> {
  await waitFor(async () => check(), { timeoutMs, intervalMs: 50, what });
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

describe('the dashboard in headless Chromium', () => {
  let ctx: TestContext;
  let tmp: ReturnType<typeof tempDir>;
  let data: PipelineData;
  let gold: GoldProducer;
  let ui: UiProcess;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    ctx = await createTestContext({ name: 'ui-browser' });
    tmp = tempDir('browser');
    const dbPath = path.join(tmp.dir, 'aggregator.db');
    data = PipelineData.open(dbPath);
    gold = await GoldProducer.create(
      ctx.track(ctx.kafka.producer()),
      ctx.connection.registryUrl,
      ctx.topics.gold,
    );
    await gold.send(seedWorkedExample(data));
    ui = new UiProcess(
      await freePort(),
      {
        KAFKA_BROKERS: ctx.connection.brokers.join(','),
        SCHEMA_REGISTRY_URL: ctx.connection.registryUrl,
        TOPIC_PREFIX: ctx.connection.topicPrefix,
        LOG_LEVEL: 'warn',
        UI_HEARTBEAT_MS: '2000',
        UI_HEALTH_INTERVAL_MS: '1000',
      },
      dbPath,
    );
    await ui.start();
    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.on('pageerror', (err) => pageErrors.push(`pageerror: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error' && !/WebSocket connection|Failed to load resource/.test(msg.text())) {
        pageErrors.push(`console: ${msg.text()}`);
      }
    });
  });

  afterAll(async () => {
    await browser?.close();
    await ui?.stop();
    data?.close();
    await ctx?.cleanup();
    tmp?.remove();
  });

  afterEach(() => {
    expect(pageErrors).toEqual([]);
  });

  it("loads and shows the contract's worked example exactly", async () => {
    await page.goto(ui.url);
    await until('the live snapshot and the API data', async () => {
      const c = await cards(page);
      const raw = await tableRows(page, 'raw-data');
      const live = await page.evaluate(() => document.body.dataset.live);
      return c.total_bookings === '5' && raw.length === 5 && live === 'live';
    });
    expect(await cards(page)).toEqual({
      total_bookings: '5',
      total_revenue: '$212.00',
      active_revenue: '$122.00',
      lost_revenue: '$90.00',
    });
    const insights = await tableRows(page, 'movie-insights');
    expect(insights).toEqual(CONTRACT_TABLE);
    expect(await tableRows(page, 'movie-performance')).toEqual([
      ['M004', '1', '$100.00', '4'],
      ['M003', '1', '$60.00', '3'],
      ['M001', '1', '$30.00', '2'],
      ['M002', '1', '$12.00', '1'],
      ['M005', '1', '$10.00', '1'],
    ]);
    await until('the charts', async () =>
      sameJson(await chartData(page, 'chart-revenue-status'), {
        labels: ['BOOKED', 'CANCELLED'],
        data: [[12200, 9000]],
      }),
    );
    expect(await chartData(page, 'chart-status-dist')).toEqual({
      labels: ['BOOKED', 'CANCELLED'],
      data: [[3, 2]],
    });
    const hour = await chartData(page, 'chart-hour');
    expect(hour.data[0]![10]).toBe(5);
    expect((hour.data[0] as number[]).reduce((s, n) => s + n, 0)).toBe(5);
    expect(hour.data[1]![10]).toBe(21200);
    const dow = await chartData(page, 'chart-dow');
    expect(dow.data[0]).toEqual([0, 0, 0, 5, 0, 0, 0]);
    await until('the health panel', async () => (await page.textContent('#health-dq')) === '100.00%');
    await page.screenshot({ path: screenshotPath('01-worked-example'), fullPage: true });
  });

  it('shows a cancellation produced afterwards in cards, charts and tables without a reload', async () => {
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
    const b002 = WORKED_EXAMPLE_CREATES[1]!;
    await gold.send(data.apply([{ booking: cancel(b002), eventTsMs: Date.now() }]));

    await until('the cancellation on the page', async () => {
      const c = await cards(page);
      const insights = await tableRows(page, 'movie-insights');
      const revenue = await chartData(page, 'chart-revenue-status');
      const dist = await chartData(page, 'chart-status-dist');
      const raw = await tableRows(page, 'raw-data');
      return (
        c.active_revenue === '$110.00' &&
        c.lost_revenue === '$102.00' &&
        sameJson(insights[1], [
          'M002',
          '1',
          '0',
          '1',
          '$0.00',
          '$12.00',
          'SINGLE',
          'STANDARD',
          '100.00%',
          '1',
        ]) &&
        sameJson(revenue.data, [[11000, 10200]]) &&
        sameJson(dist.data, [[2, 3]]) &&
        raw.some((r) => r[0] === 'B002' && r[4] === 'CANCELLED')
      );
    });
    expect(await cards(page)).toEqual({
      total_bookings: '5',
      total_revenue: '$212.00',
      active_revenue: '$110.00',
      lost_revenue: '$102.00',
    });
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);
    const e2e = await page.textContent('#e2e-lag');
    expect(e2e).toMatch(/\d+ (ms|s)/);
    await page.screenshot({ path: screenshotPath('02-after-cancellation'), fullPage: true });
  });

  it('shows the derivation settings and a backfill in progress, then finished, in the pipeline panel', async () => {
    expect(await page.isHidden('#health-backfill')).toBe(true);
    const control = testControlClient(ctx);
    const now = Date.now();
    const previous = { time_zone: 'UTC', rules_version: '1', epoch: 0, since: now - 60_000, set_by: 'test' };
    const backfill: BackfillState = {
      epoch: 1,
      time_zone: 'America/New_York',
      rules_version: '1',
      previous,
      from: 'beginning',
      group_id: `${ctx.connection.topicPrefix}cdc-backfill-1`,
      status: 'RUNNING',
      partitions: [{ partition: 0, start: 0, end: 40 }],
      created_at: now,
      range_captured_at: now,
      finished_at: null,
      records: 0,
      run_records: 0,
      run_ms: 0,
    };
    await control.write([
      settingsRecord({ ...previous, time_zone: 'America/New_York', epoch: 1, since: now }),
      backfillRecord(backfill),
    ]);
    await until(
      'the running backfill in the pipeline panel',
      async () =>
        (await page.textContent('#health-derivation')) === 'America/New_York, rules 1, epoch 1' &&
        (await page.isVisible('#health-backfill')) &&
        /Backfill epoch 1 \(America\/New_York, rules 1\) running: 0 of 40 records re-derived/.test(
          (await page.textContent('#health-backfill-text')) ?? '',
        ),
    );
    await page.screenshot({ path: screenshotPath('02b-backfill-running'), fullPage: true });

    await control.write([
      backfillRecord({ ...backfill, status: 'FINISHED', finished_at: Date.now(), records: 40 }),
    ]);
    await until('the finished backfill in the pipeline panel', async () =>
      /Backfill epoch 1 \(America\/New_York, rules 1\) finished .*: 40 records re-derived/.test(
        (await page.textContent('#health-backfill-text')) ?? '',
      ),
    );
    expect(await page.getAttribute('#health-backfill-progress', 'value')).toBe('1');
  });

  async function pick(filter: 'status' | 'movie', value: string): Promise<void> {
    await page.click(`#filter-${filter} summary`);
    await page.check(`#filter-${filter} input[value="${value}"]`);
    await page.click('h1');
  }

  async function clearFilters(): Promise<void> {
    await page.click('#filter-clear');
    await until('the unfiltered view', async () => (await cards(page)).total_bookings === '5');
  }

  it('applies each filter to every panel', async () => {
    // Status: only the three cancelled bookings.
    await pick('status', 'CANCELLED');
    await until('the status filter', async () => {
      const c = await cards(page);
      const raw = await tableRows(page, 'raw-data');
      return c.total_bookings === '3' && raw.length === 3 && c.lost_revenue === '$102.00';
    });
    expect(await cards(page)).toEqual({
      total_bookings: '3',
      total_revenue: '$102.00',
      active_revenue: '$0.00',
      lost_revenue: '$102.00',
    });
    expect((await tableRows(page, 'movie-insights')).map((r) => r[0])).toEqual(['M001', 'M002', 'M003']);
    expect((await tableRows(page, 'raw-data')).every((r) => r[4] === 'CANCELLED')).toBe(true);
    await until('the filtered charts', async () =>
      sameJson(await chartData(page, 'chart-revenue-status'), { labels: ['CANCELLED'], data: [[10200]] }),
    );
    expect(page.url()).toContain('status=CANCELLED');
    await page.screenshot({ path: screenshotPath('03-filter-status'), fullPage: true });
    await clearFilters();

    // Movie: one movie.
    await pick('movie', 'M004');
    await until('the movie filter', async () => (await tableRows(page, 'raw-data')).length === 1);
    expect(await cards(page)).toEqual({
      total_bookings: '1',
      total_revenue: '$100.00',
      active_revenue: '$100.00',
      lost_revenue: '$0.00',
    });
    expect((await tableRows(page, 'movie-performance')).map((r) => r[0])).toEqual(['M004']);
    await until('the movie-filtered charts', async () =>
      sameJson(await chartData(page, 'chart-status-dist'), { labels: ['BOOKED'], data: [[1]] }),
    );
    await page.screenshot({ path: screenshotPath('04-filter-movie'), fullPage: true });
    await clearFilters();

    // Booking-date range: a day without bookings, then the day of the example.
    await page.fill('#filter-from', '2025-09-04');
    await page.dispatchEvent('#filter-from', 'change');
    await until('an empty date range', async () => (await cards(page)).total_bookings === '0');
    expect(await tableRows(page, 'movie-insights')).toEqual([]);
    expect(await tableRows(page, 'raw-data')).toEqual([]);
    await until('empty charts', async () =>
      sameJson((await chartData(page, 'chart-status-dist')).data, [[]]),
    );
    await page.screenshot({ path: screenshotPath('05-filter-date-empty'), fullPage: true });
    await page.fill('#filter-from', '2025-09-03');
    await page.dispatchEvent('#filter-from', 'change');
    await page.fill('#filter-to', '2025-09-03');
    await page.dispatchEvent('#filter-to', 'change');
    await until('the example day', async () => (await cards(page)).total_bookings === '5');
    expect(await page.textContent('#movie-source')).toContain('recomputed');
    expect((await tableRows(page, 'movie-insights'))[0]).toEqual(CONTRACT_TABLE[0]);
    await clearFilters();
  });

  it('exports the filtered rows as CSV that parses back to the same rows', async () => {
    await pick('status', 'CANCELLED');
    await until('the status filter', async () => (await tableRows(page, 'raw-data')).length === 3);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
    expect(download.suggestedFilename()).toMatch(/^bookings-\d{8}T\d{6}Z\.csv$/);
    const file = await download.path();
    const rows = parseCsv(readFileSync(file, 'utf8'));
    expect(rows[0]).toEqual([...BOOKING_COLUMNS]);
    const api = (await (
      await fetch(`${ui.url}/api/bookings?status=CANCELLED&pageSize=500&sort=booking_date&order=desc`)
    ).json()) as { rows: Record<string, unknown>[] };
    const expected = api.rows.map((r) =>
      BOOKING_COLUMNS.map((c) => (r[c] === null ? '' : String(r[c] as string | number))),
    );
    expect(rows.slice(1)).toEqual(expected);
    expect(
      rows
        .slice(1)
        .map((r) => r[0])
        .sort(),
    ).toEqual(['B001', 'B002', 'B003']);
    await clearFilters();
  });

  it('reconnects after the server is killed and restarted, and catches up', async () => {
    await ui.kill();
    await until(
      'the reconnecting indicator',
      async () => (await page.evaluate(() => document.body.dataset.live)) === 'reconnecting',
    );
    await page.screenshot({ path: screenshotPath('06-reconnecting'), fullPage: true });
    const b004 = WORKED_EXAMPLE_CREATES[3]!;
    await gold.send(data.apply([{ booking: cancel(b004), eventTsMs: Date.now() }]));
    await ui.start();
    await until(
      'the page to reconnect and show the change made while the server was down',
      async () => {
        const c = await cards(page);
        const live = await page.evaluate(() => document.body.dataset.live);
        const insights = await tableRows(page, 'movie-insights');
        return (
          live === 'live' &&
          c.active_revenue === '$10.00' &&
          c.lost_revenue === '$202.00' &&
          insights[3]?.[3] === '1'
        );
      },
      30_000,
    );
    await page.screenshot({ path: screenshotPath('07-reconnected'), fullPage: true });
    expect(await ui.stop()).toBe(0);
  });
});
