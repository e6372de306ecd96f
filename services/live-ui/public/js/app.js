// @ts-check
// The dashboard. Live KPIs come from the websocket (gold topic); filtered views, charts and raw
// rows come from the JSON API (the aggregator's SQLite), refreshed after every live change.
import { createCharts } from './charts.js';
import { INSIGHT_BASE_COLUMNS, INSIGHT_EXTRA_COLUMNS, PERFORMANCE_COLUMNS, RAW_COLUMNS } from './columns.js';
import { ago, duration, int, money, percent, setCurrencySymbol } from './format.js';
import { renderAlerts } from './alerts.js';
import { connectLive } from './live.js';
import { renderTable } from './tables.js';
import { $, $as } from './dom.js';
import { renderHealth } from './health.js';

/** @typedef {import('./live.js').MovieRow} MovieRow */
/** @typedef {{ key: string, dir: 'asc' | 'desc' }} Sort */
/**
 * What the page shows. API bodies are as /api/openapi.json describes them (not typed here).
 * @typedef {object} DashboardState
 * @property {Map<string, MovieRow>} gold the live gold KPIs by movie_key
 * @property {boolean} goldLoaded
 * @property {{ from: string, to: string, status: string[], movie: string[] }} filters
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
  filters: { from: '', to: '', status: [], movie: [] },
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

const needsRowQuery = (f) => Boolean(f.from || f.to || f.status.length > 0);

function filterParams(extra = {}) {
  const q = new URLSearchParams();
  const f = state.filters;
  if (f.from) q.set('from', f.from);
  if (f.to) q.set('to', f.to);
  if (f.status.length) q.set('status', f.status.join(','));
  if (f.movie.length) q.set('movie', f.movie.join(','));
  for (const [k, v] of Object.entries(extra)) q.set(k, String(v));
  return q;
}

function readFiltersFromUrl() {
  const q = new URLSearchParams(window.location.search);
  /** @param {string} k */
  const list = (k) => (q.get(k) ?? '').split(',').filter(Boolean);
  state.filters = {
    from: q.get('from') ?? '',
    to: q.get('to') ?? '',
    status: list('status'),
    movie: list('movie'),
  };
}

function filtersChanged() {
  const q = filterParams().toString();
  window.history.replaceState(null, '', q ? `?${q}` : window.location.pathname);
  state.page = 1;
  renderFilterControls();
  render();
  scheduleRefresh(0);
}

function renderMulti(details, values, selected, onChange) {
  const box = details.querySelector('.multi-options');
  const all = [...new Set([...values, ...selected])];
  const signature = all.join('\u0000');
  if (box.dataset.signature !== signature) {
    box.dataset.signature = signature;
    box.replaceChildren();
    for (const v of all) {
      const label = document.createElement('label');
      const input = document.createElement('input');
      input.type = 'checkbox';
      input.value = v;
      input.addEventListener('change', () => {
        const chosen = [...box.querySelectorAll('input:checked')].map((i) => i.value);
        onChange(chosen);
      });
      label.append(input, document.createTextNode(v));
      box.appendChild(label);
    }
  }
  for (const input of box.querySelectorAll('input')) input.checked = selected.includes(input.value);
  const value = details.querySelector('.multi-value');
  value.textContent =
    selected.length === 0
      ? 'All'
      : selected.length <= 2
        ? selected.join(', ')
        : `${selected.length} selected`;
}

function renderFilterControls() {
  const f = state.filters;
  $as('filter-from', HTMLInputElement).value = f.from;
  $as('filter-to', HTMLInputElement).value = f.to;
  const movies = [...new Set([...state.options.movies, ...state.gold.keys()])].sort();
  renderMulti($('filter-status'), state.options.statuses, f.status, (chosen) => {
    state.filters.status = chosen;
    filtersChanged();
  });
  renderMulti($('filter-movie'), movies, f.movie, (chosen) => {
    state.filters.movie = chosen;
    filtersChanged();
  });
  const active = [];
  if (f.from || f.to) active.push(`${f.from || '…'} → ${f.to || '…'}`);
  if (f.status.length) active.push(`status ${f.status.join(', ')}`);
  if (f.movie.length) active.push(`movie ${f.movie.join(', ')}`);
  $('filter-summary').textContent = active.length ? `Filtered: ${active.join(' · ')}` : '';
  $as('export-csv', HTMLAnchorElement).href =
    `/api/bookings.csv?${filterParams({ sort: state.rawSort.key, order: state.rawSort.dir })}`;
}

// ---------- API ----------

let refreshSeq = 0;
let refreshTimer = null;
let refreshing = false;
let refreshAgain = false;

async function getJson(path) {
  const res = await fetch(path, { headers: { accept: 'application/json' } });
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
  const f = filterParams();
  const paging = filterParams({
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
      renderFilterControls();
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

function setText(el, text) {
  if (el.textContent !== text) {
    el.textContent = text;
    el.classList.remove('flash');
    void el.offsetWidth;
    el.classList.add('flash');
  }
}

function renderCards(rows) {
  const sum = (k) => rows.reduce((s, r) => s + Number(r[k] ?? 0), 0);
  const total = sum('total_bookings');
  const valid = sum('valid_bookings');
  const cancelled = sum('cancelled_bookings');
  const card = (k) => document.querySelector(`[data-kpi="${k}"]`);
  /** @param {string} k */
  const sub = (k) => /** @type {HTMLElement} */ (document.querySelector(`[data-kpi-sub="${k}"]`));
  setText(card('total_bookings'), int(total));
  setText(card('total_revenue'), money(sum('total_gross_revenue_cents')));
  setText(card('active_revenue'), money(sum('total_active_revenue_cents')));
  setText(card('lost_revenue'), money(sum('total_lost_revenue_cents')));
  sub('total_bookings').textContent = `${int(valid)} valid · ${int(total - valid)} invalid`;
  const plural = (n, word) => `${int(n)} ${word}${n === 1 ? '' : 's'}`;
  sub('total_revenue').textContent = plural(sum('total_tickets'), 'ticket');
  sub('active_revenue').textContent = `${plural(sum('active_bookings'), 'active booking')}`;
  sub('lost_revenue').textContent =
    `${int(cancelled)} cancelled · ${valid > 0 ? percent((cancelled / valid) * 100) : '—'} cancellation`;
}

function toggleSort(sort, key) {
  if (sort.key === key) sort.dir = sort.dir === 'asc' ? 'desc' : 'asc';
  else {
    sort.key = key;
    sort.dir = key === 'movie_key' || key === 'booking_id' ? 'asc' : 'desc';
  }
}

function renderMovieTables(rows) {
  const rowKey = (r) => r.movie_key;
  renderTable($('movie-performance'), {
    columns: PERFORMANCE_COLUMNS,
    rows,
    rowKey,
    clientSort: true,
    sort: state.perfSort,
    changed: state.changed,
    emptyText: 'No movies match the filters',
    onSort: (key) => {
      toggleSort(state.perfSort, key);
      render();
    },
  });
  const extra = INSIGHT_EXTRA_COLUMNS.filter((c) => state.extraColumns.has(c.key));
  renderTable($('movie-insights'), {
    columns: [...INSIGHT_BASE_COLUMNS, ...extra],
    rows,
    rowKey,
    clientSort: true,
    sort: state.insightSort,
    changed: state.changed,
    emptyText: 'No movies match the filters',
    onSort: (key) => {
      toggleSort(state.insightSort, key);
      render();
    },
  });
  $('movie-source').textContent = needsRowQuery(state.filters)
    ? 'recomputed from current rows under the filters'
    : 'live from the gold topic';
}

function renderRaw() {
  const page = state.api.bookings;
  renderTable($('raw-data'), {
    columns: RAW_COLUMNS,
    rows: page ? page.rows : [],
    rowKey: (r) => r.booking_id,
    sort: state.rawSort,
    emptyText: page ? 'No bookings match the filters' : 'Loading…',
    onSort: (key) => {
      toggleSort(state.rawSort, key);
      state.page = 1;
      renderFilterControls();
      scheduleRefresh(0);
    },
  });
  const pages = page ? Math.max(1, Math.ceil(page.total / page.pageSize)) : 1;
  $('page-info').textContent = page ? `Page ${page.page} of ${pages} · ${int(page.total)} rows` : '—';
  $as('page-prev', HTMLButtonElement).disabled = !page || page.page <= 1;
  $as('page-next', HTMLButtonElement).disabled = !page || page.page >= pages;
}

function render() {
  if (!charts && window.Chart) charts = createCharts();
  const rows = movieRows();
  // Under filters the movie tables and cards come from the API: until it has answered for the
  // filters now set, they keep what they show (not zeros from no answer, not the old answer).
  const answered = state.api.filters === filterParams().toString();
  if (needsRowQuery(state.filters) ? answered : state.goldLoaded) {
    renderCards(rows);
    renderMovieTables(rows);
  }
  const s = state.api.summary;
  if (charts && s) {
    charts.setStatus(s.by_status);
    charts.setTime(s.by_hour, s.by_day_of_week);
  }
  renderRaw();
  state.changed = new Set();
}

function renderFreshness() {
  const f = state.fresh;
  const now = Date.now() + f.clockOffsetMs;
  $('since-last-change').textContent = f.lastChangeAtMs ? ago(now - f.lastChangeAtMs) : '—';
  $('e2e-lag').textContent = duration(f.e2eLagMs);
}

// ---------- live ----------

// Live changes can arrive 20 times a second; the page redraws at most every 200 ms.
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

function setLiveState(s, detail) {
  const box = $('live-status');
  box.dataset.state = s;
  document.body.dataset.live = s;
  $('live-text').textContent =
    s === 'live'
      ? 'Live'
      : s === 'connecting'
        ? 'Connecting…'
        : detail && detail.delayMs !== undefined
          ? `Reconnecting in ${duration(detail.delayMs)} (attempt ${detail.attempt})`
          : 'Reconnecting…';
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
      renderFilterControls();
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
    state.filters.from = /** @type {HTMLInputElement} */ (e.target).value;
    filtersChanged();
  });
  $as('filter-to', HTMLInputElement).addEventListener('change', (e) => {
    state.filters.to = /** @type {HTMLInputElement} */ (e.target).value;
    filtersChanged();
  });
  $('filter-clear').addEventListener('click', () => {
    state.filters = { from: '', to: '', status: [], movie: [] };
    filtersChanged();
  });
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
  const picker = document.querySelector('#insight-columns .columns-options');
  for (const c of INSIGHT_EXTRA_COLUMNS) {
    const label = document.createElement('label');
    const input = document.createElement('input');
    input.type = 'checkbox';
    input.value = c.key;
    input.addEventListener('change', () => {
      if (input.checked) state.extraColumns.add(c.key);
      else state.extraColumns.delete(c.key);
      render();
    });
    label.append(input, document.createTextNode(c.label));
    picker?.appendChild(label);
  }
  // Close an open dropdown when clicking elsewhere.
  document.addEventListener('click', (e) => {
    for (const d of document.querySelectorAll('details[open]')) {
      if (d instanceof HTMLDetailsElement && !(e.target instanceof Node && d.contains(e.target)))
        d.open = false;
    }
  });
}

async function main() {
  readFiltersFromUrl();
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
  renderFilterControls();
  render();
  startLive(config);
  void refresh();
  void pollHealth();
  setInterval(pollHealth, 3000);
  setInterval(renderFreshness, 1000);
}

void main();
