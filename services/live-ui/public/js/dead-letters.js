// @ts-check
// The dead-letter page: GET /api/dead-letters (the pipeline panel's count links here), refreshed
// every 10 s; the error-code filter is kept in the address (?code=).
import { $, $as } from './dom.js';
import { dateTime, int } from './format.js';

/**
 * @typedef {{ position: string, time: number, error_code: string, error_message: string,
 *   source_topic: string, source_partition: number, source_offset: string, size: number,
 *   key: string | null, replay_of: string | null }} DeadLetterRow
 * @typedef {{ total: number, read_at: number, dead_letters: DeadLetterRow[] }} DeadLetterList
 */

const LIMIT = 500;
const REFRESH_MS = 10_000;

const select = $as('dlq-code', HTMLSelectElement);
const body = /** @type {HTMLTableSectionElement} */ ($as('dlq-table', HTMLTableElement).tBodies[0]);
const seenCodes = new Set();

/** @param {DeadLetterRow} r */
function row(r) {
  const tr = document.createElement('tr');
  const cells = [
    r.position,
    `${dateTime(r.time)}:${new Date(r.time).toISOString().slice(17, 19)}`,
    r.error_code,
    r.replay_of ? `${r.error_message} (replay of ${r.replay_of}, failed again)` : r.error_message,
    `${r.source_topic} ${r.source_partition}/${r.source_offset}`,
    r.key ?? '—',
    int(r.size),
  ];
  for (const text of cells) {
    const td = document.createElement('td');
    td.textContent = text; // never innerHTML: these are bytes someone else wrote
    tr.append(td);
  }
  return tr;
}

async function load() {
  const params = new URLSearchParams({ limit: String(LIMIT) });
  if (select.value) params.set('code', select.value);
  const count = $('dlq-count');
  try {
    const res = await fetch(`/api/dead-letters?${params}`);
    if (!res.ok)
      throw new Error(/** @type {{ error?: string }} */ (await res.json()).error ?? `HTTP ${res.status}`);
    const list = /** @type {DeadLetterList} */ (await res.json());
    for (const r of list.dead_letters) {
      if (!seenCodes.has(r.error_code)) {
        seenCodes.add(r.error_code);
        select.append(new Option(r.error_code, r.error_code));
      }
    }
    body.replaceChildren(...list.dead_letters.map(row));
    const shown =
      list.dead_letters.length < list.total ? ` (newest ${int(list.dead_letters.length)} shown)` : '';
    count.textContent = `${int(list.total)} dead letter${list.total === 1 ? '' : 's'}${shown}`;
  } catch (err) {
    count.textContent = `Dead letters cannot be read now: ${err instanceof Error ? err.message : String(err)}`;
  }
}

const initial = new URLSearchParams(location.search).get('code');
if (initial) {
  seenCodes.add(initial);
  select.append(new Option(initial, initial));
  select.value = initial;
}
select.addEventListener('change', () => {
  const url = new URL(location.href);
  if (select.value) url.searchParams.set('code', select.value);
  else url.searchParams.delete('code');
  history.replaceState(null, '', url);
  void load();
});
void load();
setInterval(() => void load(), REFRESH_MS);
