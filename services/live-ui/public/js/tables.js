// @ts-check
// Table rendering with sortable headers. Cells are built with textContent only (never HTML from
// data). `sort` is {key, dir}; with `clientSort` the rows are sorted here, otherwise the caller
// (the server) has sorted them.

function compare(a, b) {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b), 'en', { numeric: true });
}

export function sortRows(rows, columns, sort, rowKey) {
  const col = columns.find((c) => c.key === sort.key);
  if (!col) return rows;
  const value = col.sortValue ?? ((r) => r[col.key]);
  const sign = sort.dir === 'asc' ? 1 : -1;
  return [...rows].sort((x, y) => sign * compare(value(x), value(y)) || compare(rowKey(x), rowKey(y)));
}

export function renderTable(table, opts) {
  const { columns, sort, onSort, emptyText, rowKey, changed } = opts;
  const rows = opts.clientSort ? sortRows(opts.rows, columns, sort, rowKey) : opts.rows;
  const signature = columns.map((c) => c.key).join('|');
  let thead = table.tHead;
  if (!thead || thead.dataset.signature !== signature) {
    if (thead) thead.remove();
    thead = table.createTHead();
    thead.dataset.signature = signature;
    const tr = thead.insertRow();
    for (const c of columns) {
      const th = document.createElement('th');
      th.textContent = c.label;
      th.dataset.col = c.key;
      if (c.title) th.title = c.title;
      if (c.num) th.className = 'num';
      if (c.sortable !== false) {
        th.dataset.sort = c.key;
        th.tabIndex = 0;
        const activate = () => onSort(c.key);
        th.addEventListener('click', activate);
        th.addEventListener('keydown', (e) => {
          if (e.key === 'Enter' || e.key === ' ') {
            e.preventDefault();
            activate();
          }
        });
      }
      tr.appendChild(th);
    }
  }
  for (const th of thead.rows[0].cells) {
    if (th.dataset.sort === sort.key)
      th.setAttribute('aria-sort', sort.dir === 'asc' ? 'ascending' : 'descending');
    else th.removeAttribute('aria-sort');
  }
  const body = document.createElement('tbody');
  if (rows.length === 0) {
    const td = body.insertRow().insertCell();
    td.colSpan = columns.length;
    td.className = 'empty';
    td.textContent = emptyText ?? 'No rows';
  }
  for (const row of rows) {
    const tr = body.insertRow();
    const key = rowKey(row);
    tr.dataset.key = key;
    if (changed && changed.has(key)) tr.className = 'changed';
    for (const c of columns) {
      const td = tr.insertCell();
      td.dataset.col = c.key;
      if (c.num) td.className = 'num';
      const v = c.format ? c.format(row) : row[c.key];
      if (v instanceof window.Node) td.appendChild(v);
      else td.textContent = v === null || v === undefined ? '—' : String(v);
    }
  }
  if (table.tBodies[0]) table.tBodies[0].replaceWith(body);
  else table.appendChild(body);
}

export function badge(text, kind) {
  const span = document.createElement('span');
  span.className = `badge badge-${kind ?? text}`;
  span.textContent = text;
  return span;
}
