// @ts-check
// The dashboard's filters: their query string, the URL that keeps them, and their controls.
import { $, $as } from './dom.js';

/** @typedef {{ from: string, to: string, status: string[], movie: string[] }} Filters */

/** No filters: the movie tables and cards show the live gold KPIs. */
export const noFilters = () => ({ from: '', to: '', status: [], movie: [] });

/**
 * Filters on rows (dates, statuses) need the API to recompute the movie KPIs; a movie filter
 * alone only hides movies of the live gold KPIs.
 * @param {Filters} f
 */
export const needsRowQuery = (f) => Boolean(f.from || f.to || f.status.length > 0);

/**
 * The API's query for `f`, with `extra` parameters (paging, sort).
 * @param {Filters} f
 * @param {Record<string, string | number>} [extra]
 */
export function filterParams(f, extra = {}) {
  const q = new URLSearchParams();
  if (f.from) q.set('from', f.from);
  if (f.to) q.set('to', f.to);
  if (f.status.length) q.set('status', f.status.join(','));
  if (f.movie.length) q.set('movie', f.movie.join(','));
  for (const [k, v] of Object.entries(extra)) q.set(k, String(v));
  return q;
}

/** The filters in the page's URL (a link to a filtered dashboard opens filtered). @returns {Filters} */
export function readFiltersFromUrl() {
  const q = new URLSearchParams(window.location.search);
  /** @param {string} k */
  const list = (k) => (q.get(k) ?? '').split(',').filter(Boolean);
  return { from: q.get('from') ?? '', to: q.get('to') ?? '', status: list('status'), movie: list('movie') };
}

/** @param {Filters} f */
export function writeFiltersToUrl(f) {
  const q = filterParams(f).toString();
  window.history.replaceState(null, '', q ? `?${q}` : window.location.pathname);
}

/**
 * A multi-select dropdown (a <details> with checkboxes); rebuilt only when its values change.
 * @param {HTMLElement} details
 * @param {string[]} values
 * @param {string[]} selected
 * @param {(chosen: string[]) => void} onChange
 */
function renderMulti(details, values, selected, onChange) {
  const box = /** @type {HTMLElement} */ (details.querySelector('.multi-options'));
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
        const chosen = [...box.querySelectorAll('input:checked')].map(
          (i) => /** @type {HTMLInputElement} */ (i).value,
        );
        onChange(chosen);
      });
      label.append(input, document.createTextNode(v));
      box.appendChild(label);
    }
  }
  for (const input of box.querySelectorAll('input')) input.checked = selected.includes(input.value);
  const value = /** @type {HTMLElement} */ (details.querySelector('.multi-value'));
  value.textContent =
    selected.length === 0
      ? 'All'
      : selected.length <= 2
        ? selected.join(', ')
        : `${selected.length} selected`;
}

/**
 * The filter controls, the line saying what is filtered, and the CSV export link.
 * @param {object} o
 * @param {Filters} o.filters
 * @param {{ statuses: string[], movies: string[] }} o.options what the API offers
 * @param {string[]} o.liveMovies movies known from the live KPIs (offered too)
 * @param {string} o.exportQuery the export's query (filters and sort)
 * @param {(change: Partial<Filters>) => void} o.onChange
 */
export function renderFilterControls({ filters: f, options, liveMovies, exportQuery, onChange }) {
  $as('filter-from', HTMLInputElement).value = f.from;
  $as('filter-to', HTMLInputElement).value = f.to;
  const movies = [...new Set([...options.movies, ...liveMovies])].sort();
  renderMulti($('filter-status'), options.statuses, f.status, (status) => onChange({ status }));
  renderMulti($('filter-movie'), movies, f.movie, (movie) => onChange({ movie }));
  const active = [];
  if (f.from || f.to) active.push(`${f.from || '…'} → ${f.to || '…'}`);
  if (f.status.length) active.push(`status ${f.status.join(', ')}`);
  if (f.movie.length) active.push(`movie ${f.movie.join(', ')}`);
  $('filter-summary').textContent = active.length ? `Filtered: ${active.join(' · ')}` : '';
  $as('export-csv', HTMLAnchorElement).href = `/api/bookings.csv?${exportQuery}`;
}
