// @ts-check
// The dashboard. Live KPIs come from the websocket (gold topic); filtered views, charts and raw
// rows come from the JSON API (the aggregator's SQLite), refreshed after every live change.
import { createCharts } from './charts.js';
import { setCurrencySymbol } from './format.js';
import { renderAlerts } from './alerts.js';
import { connectLive } from './live.js';
import { $, $as } from './dom.js';
import { renderHealth } from './health.js';
import {
  filterParams,
  needsRowQuery,
  noFilters,
  readFiltersFromUrl,
  renderFilterControls,
  writeFiltersToUrl,
} from './filters.js';
import { renderCards, renderColumnPicker, renderMovieTables, renderRaw } from './views.js';
import { setLiveState, showFreshness } from './status.js';

/** @typedef {import('./live.js').MovieRow} MovieRow */
/** @typedef {import('./views.js').Sort} Sort */
/**
 * What the page shows. API bodies are as /api/openapi.json describes them (not typed here).
 * @typedef {object} DashboardState
 * @property {Map<string, MovieRow>} gold the live gold KPIs by movie_key
 * @property {boolean} goldLoaded
 * @property {import('./filters.js').Filters} filters
 * @property {{ statuses: string[], movies: string[] }} options
 * @property {{ summary: any, kpis: any, bookings: any, filters: string | null }} api the API's answers and the filters they were asked for
 * @property {Sort} perfSort
 * @property {Sort} insightSort
 * @property {Sort} rawSort
 * @property {number} page
 * @property {number} pageSize
 * @property {Set<string>} extraColumns
 * @property {{ lastChangeAtMs: number, e2eLagMs: number | null, clockOffsetMs: number }} fresh
 * @property {Set<string>} changed movies changed since the last render
 * @property {any} health
 */

/** @type {DashboardState} */
const state = {
  gold: new Map(),
  goldLoaded: false,
  filters: noFilters(),
  options: { statuses: [], movies: [] },
  api: { summary: null, kpis: null, bookings: null, filters: null },
  perfSort: { key: 'total_gross_revenue_cents', dir: 'desc' },
  insightSort: { key: 'movie_key', dir: 'asc' },
  rawSort: { key: 'booking_date', dir: 'desc' },
  page: 1,
  pageSize: 50,
  extraColumns: new Set(),
  fresh: { lastChangeAtMs: 0, e2eLagMs: null, clockOffsetMs: 0 },
  changed: new Set(),
  health: null,
};

// ---------- filters ----------

const query = (extra = {}) => filterParams(state.filters, extra);

/** @param {Partial<import('./filters.js').Filters>} change */
function filtersChanged(change) {
  state.filters = { ...state.filters, ...change };
  writeFiltersToUrl(state.filters);
  state.page = 1;
  showFilterControls();
  render();
  scheduleRefresh(0);
}

function showFilterControls() {
  renderFilterControls({
    filters: state.filters,
    options: state.options,
    liveMovies: [...state.gold.keys()],
    exportQuery: query({ sort: state.rawSort.key, order: state.rawSort.dir }).toString(),
    onChange: filtersChanged,
  });
}

// ---------- API ----------

let refreshSeq = 0;
let refreshTimer = null;
let refreshing = false;
let refreshAgain = false;

async function getJson(path) {
  const res = await fetch(path, { headers: { accept: 'application/json' } });
  // Signed out (the session expired, its token was revoked, the server restarted): sign in again.
  if (res.status === 401) window.location.assign('/login.html');
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.error ?? `${res.status} ${res.statusText}`);
  return body;
}

function scheduleRefresh(delayMs = 60) {
  if (refreshTimer) return;
  refreshTimer = setTimeout(() => {
    refreshTimer = null;
    void refresh();
  }, delayMs);
}

async function refresh() {
  if (refreshing) {
    refreshAgain = true;
    return;
  }
  refreshing = true;
  const seq = ++refreshSeq;
  const f = query();
  const paging = query({
    page: state.page,
    pageSize: state.pageSize,
    sort: state.rawSort.key,
    order: state.rawSort.dir,
  });
  try {
    const [summary, bookings, kpis, options] = await Promise.all([
      getJson(`/api/summary?${f}`),
      getJson(`/api/bookings?${paging}`),
      needsRowQuery(state.filters) ? getJson(`/api/kpis?${f}`) : Promise.resolve(null),
      getJson('/api/filters'),
    ]);
    if (seq === refreshSeq) {
      state.api = { summary, bookings, kpis, filters: f.toString() };
      state.options = options;
      document.body.dataset.apiError = '';
      $('raw-count').textContent = '';
      showFilterControls();
      render();
    }
  } catch (err) {
    document.body.dataset.apiError = String(err.message);
    $('raw-count').textContent = `Data unavailable: ${err.message}`;
  } finally {
    refreshing = false;
    if (refreshAgain) {
      refreshAgain = false;
      scheduleRefresh(0);
    }
  }
}

async function pollHealth() {
  try {
    state.health = await getJson('/api/health');
    renderHealth(state.health);
  } catch {
    // the live indicator already tells the server is away
  }
}

// ---------- rendering ----------

let charts = null;

function movieRows() {
  const f = state.filters;
  if (needsRowQuery(f)) return state.api.kpis ? state.api.kpis.movies : [];
  const rows = [...state.gold.values()];
  return f.movie.length ? rows.filter((r) => f.movie.includes(r.movie_key)) : rows;
}

function render() {
  if (!charts && window.Chart) charts = createCharts();
  const rows = movieRows();
  // Under filters the movie tables and cards come from the API: until it has answered for the
  // filters now set, they keep what they show (not zeros from no answer, not the old answer).
  const fromApi = needsRowQuery(state.filters);
  if (fromApi ? state.api.filters === query().toString() : state.goldLoaded) {
    renderCards(rows);
    renderMovieTables({
      rows,
      sorts: { perf: state.perfSort, insight: state.insightSort },
      changed: state.changed,
      extraColumns: state.extraColumns,
      fromApi,
      onSort: render,
    });
  }
  const s = state.api.summary;
  if (charts && s) {
    charts.setStatus(s.by_status);
    charts.setTime(s.by_hour, s.by_day_of_week);
  }
  renderRaw(state.api.bookings, state.rawSort, () => {
    state.page = 1;
    showFilterControls();
    scheduleRefresh(0);
  });
  state.changed = new Set();
}

const renderFreshness = () => showFreshness(state.fresh);

// ---------- live ----------

// Live changes can arrive 50 times a second (UI_COALESCE_MS); the page redraws at most every 200 ms.
const RENDER_INTERVAL_MS = 200;
let renderTimer = null;
let lastRenderAt = 0;

function requestRender() {
  if (renderTimer) return;
  const wait = Math.max(0, lastRenderAt + RENDER_INTERVAL_MS - Date.now());
  renderTimer = setTimeout(() => {
    renderTimer = null;
    lastRenderAt = Date.now();
    window.requestAnimationFrame(render);
  }, wait);
}

let lastHealthPoll = 0;
function pollHealthSoon() {
  if (Date.now() - lastHealthPoll < 1000) return;
  lastHealthPoll = Date.now();
  void pollHealth();
}

function onFreshness(msg) {
  state.fresh.clockOffsetMs = msg.serverTime - Date.now();
  if (msg.lastChangeAtMs) state.fresh.lastChangeAtMs = msg.lastChangeAtMs;
  if (msg.e2eLagMs !== undefined) state.fresh.e2eLagMs = msg.e2eLagMs;
  renderFreshness();
}

function startLive(config) {
  connectLive({
    path: config.ws_path,
    heartbeatMs: config.heartbeat_ms,
    onState: setLiveState,
    onMessage: (msg) => {
      if (msg.type === 'snapshot' || msg.type === 'changes')
        document.body.dataset.version = String(msg.version);
    },
    onAlerts: renderAlerts,
    onSnapshot: (msg) => {
      state.gold = new Map(msg.movies.map((m) => [m.movie_key, m]));
      state.goldLoaded = true;
      onFreshness(msg);
      showFilterControls();
      render();
      scheduleRefresh(0);
      lastHealthPoll = 0;
      pollHealthSoon();
    },
    onChanges: (msg) => {
      for (const m of msg.movies) {
        state.gold.set(m.movie_key, m);
        state.changed.add(m.movie_key);
      }
      for (const k of msg.removed) state.gold.delete(k);
      onFreshness(msg);
      requestRender();
      scheduleRefresh();
      pollHealthSoon();
    },
  });
}

// ---------- wiring ----------

function wire() {
  $as('filter-from', HTMLInputElement).addEventListener('change', (e) => {
    filtersChanged({ from: /** @type {HTMLInputElement} */ (e.target).value });
  });
  $as('filter-to', HTMLInputElement).addEventListener('change', (e) => {
    filtersChanged({ to: /** @type {HTMLInputElement} */ (e.target).value });
  });
  $('filter-clear').addEventListener('click', () => filtersChanged(noFilters()));
  $('page-prev').addEventListener('click', () => {
    state.page = Math.max(1, state.page - 1);
    scheduleRefresh(0);
  });
  $('page-next').addEventListener('click', () => {
    state.page += 1;
    scheduleRefresh(0);
  });
  $('page-size').addEventListener('change', (e) => {
    state.pageSize = Number(/** @type {HTMLSelectElement} */ (e.target).value);
    state.page = 1;
    scheduleRefresh(0);
  });
  renderColumnPicker((key, shown) => {
    if (shown) state.extraColumns.add(key);
    else state.extraColumns.delete(key);
    render();
  });
  // Close an open dropdown when clicking elsewhere.
  document.addEventListener('click', (e) => {
    for (const d of document.querySelectorAll('details[open]')) {
      if (d instanceof HTMLDetailsElement && !(e.target instanceof Node && d.contains(e.target)))
        d.open = false;
    }
  });
}

async function main() {
  state.filters = readFiltersFromUrl();
  wire();
  let config;
  for (;;) {
    try {
      config = await getJson('/api/config');
      break;
    } catch {
      setLiveState('reconnecting', {});
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  setCurrencySymbol(config.currency_symbol);
  showFilterControls();
  render();
  startLive(config);
  void refresh();
  void pollHealth();
  setInterval(pollHealth, 3000);
  setInterval(renderFreshness, 1000);
}

void main();
