// @ts-check
// The dashboard's KPI cards and tables: drawn from rows handed in, nothing fetched here.
import { INSIGHT_BASE_COLUMNS, INSIGHT_EXTRA_COLUMNS, PERFORMANCE_COLUMNS, RAW_COLUMNS } from './columns.js';
import { $, $as } from './dom.js';
import { int, money, percent } from './format.js';
import { renderTable } from './tables.js';

/** @typedef {{ key: string, dir: 'asc' | 'desc' }} Sort */

/** Sets a KPI's text and flashes it when it changed. @param {Element} el @param {string} text */
function setText(el, text) {
  if (el.textContent !== text) {
    el.textContent = text;
    el.classList.remove('flash');
    void (/** @type {HTMLElement} */ (el).offsetWidth);
    el.classList.add('flash');
  }
}

/** The four KPI cards, summed over the movie rows shown. @param {any[]} rows */
export function renderCards(rows) {
  const sum = (k) => rows.reduce((s, r) => s + Number(r[k] ?? 0), 0);
  const total = sum('total_bookings');
  const valid = sum('valid_bookings');
  const cancelled = sum('cancelled_bookings');
  /** @param {string} k */
  const card = (k) => /** @type {Element} */ (document.querySelector(`[data-kpi="${k}"]`));
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

/** A click on a column header: the same column flips direction, another sorts by it. @param {Sort} sort @param {string} key */
export function toggleSort(sort, key) {
  if (sort.key === key) sort.dir = sort.dir === 'asc' ? 'desc' : 'asc';
  else {
    sort.key = key;
    sort.dir = key === 'movie_key' || key === 'booking_id' ? 'asc' : 'desc';
  }
}

/**
 * The movie performance and insights tables.
 * @param {object} o
 * @param {any[]} o.rows
 * @param {{ perf: Sort, insight: Sort }} o.sorts changed in place by a header click
 * @param {Set<string>} o.changed movies to highlight
 * @param {Set<string>} o.extraColumns insight columns chosen
 * @param {boolean} o.fromApi whether the rows were recomputed under filters (else live gold)
 * @param {() => void} o.onSort
 */
export function renderMovieTables({ rows, sorts, changed, extraColumns, fromApi, onSort }) {
  const rowKey = (r) => r.movie_key;
  const common = { rows, rowKey, clientSort: true, changed, emptyText: 'No movies match the filters' };
  renderTable($('movie-performance'), {
    ...common,
    columns: PERFORMANCE_COLUMNS,
    sort: sorts.perf,
    onSort: (key) => {
      toggleSort(sorts.perf, key);
      onSort();
    },
  });
  const extra = INSIGHT_EXTRA_COLUMNS.filter((c) => extraColumns.has(c.key));
  renderTable($('movie-insights'), {
    ...common,
    columns: [...INSIGHT_BASE_COLUMNS, ...extra],
    sort: sorts.insight,
    onSort: (key) => {
      toggleSort(sorts.insight, key);
      onSort();
    },
  });
  $('movie-source').textContent = fromApi
    ? 'recomputed from current rows under the filters'
    : 'live from the gold topic';
}

/**
 * The raw rows table (one page from the API) and its pager.
 * @param {any} page the body of /api/bookings (null before its first answer)
 * @param {Sort} sort changed in place by a header click
 * @param {() => void} onSort
 */
export function renderRaw(page, sort, onSort) {
  renderTable($('raw-data'), {
    columns: RAW_COLUMNS,
    rows: page ? page.rows : [],
    rowKey: (r) => r.booking_id,
    sort,
    emptyText: page ? 'No bookings match the filters' : 'Loading…',
    onSort: (key) => {
      toggleSort(sort, key);
      onSort();
    },
  });
  const pages = page ? Math.max(1, Math.ceil(page.total / page.pageSize)) : 1;
  $('page-info').textContent = page ? `Page ${page.page} of ${pages} · ${int(page.total)} rows` : '—';
  $as('page-prev', HTMLButtonElement).disabled = !page || page.page <= 1;
  $as('page-next', HTMLButtonElement).disabled = !page || page.page >= pages;
}

/**
 * The insights table's optional columns, as checkboxes.
 * @param {(key: string, shown: boolean) => void} onToggle
 */
export function renderColumnPicker(onToggle) {
  const picker = document.querySelector('#insight-columns .columns-options');
  for (const c of INSIGHT_EXTRA_COLUMNS) {
    const label = document.createElement('label');
    const input = document.createElement('input');
    input.type = 'checkbox';
    input.value = c.key;
    input.addEventListener('change', () => onToggle(c.key, input.checked));
    label.append(input, document.createTextNode(c.label));
    picker?.appendChild(label);
  }
}
