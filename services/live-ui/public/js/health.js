// @ts-check
// The dashboard's pipeline panel, from /api/health (polled by app.js).
import { $, $as } from './dom.js';
import { ago, dateTime, duration, int, percent } from './format.js';

/**
 * The pipeline panel: data quality, dead letters, the last aggregator batch, clients, derivation
 * settings and backfill, and each stage's consumer lag.
 * @param {any} h the body of /api/health (null before the first poll)
 */
export function renderHealth(h) {
  if (!h) return;
  const dq = h.data_quality_score;
  const dqEl = $('health-dq');
  dqEl.textContent = percent(dq);
  dqEl.className = dq === null ? '' : dq >= 99 ? 'ok' : dq >= 90 ? 'warn' : 'bad';
  const dlq = $('health-dlq');
  dlq.textContent = int(h.dead_letters);
  dlq.className = h.dead_letters ? 'bad' : h.dead_letters === 0 ? 'ok' : '';
  const b = h.aggregator_last_batch;
  $('health-batch').textContent = b
    ? `${int(b.changes)} change${b.changes === 1 ? '' : 's'} in ${duration(b.duration_ms)}, ${ago(h.server_time - b.started_at)}`
    : '—';
  $('health-clients').textContent = int(h.clients);
  renderDerivation(h.derivation, h.server_time);
  const body = /** @type {HTMLTableSectionElement} */ (document.querySelector('#health-stages tbody'));
  body.replaceChildren();
  for (const s of h.stages) {
    const tr = body.insertRow();
    tr.dataset.stage = s.stage;
    tr.insertCell().textContent = s.stage;
    tr.insertCell().textContent = s.topic;
    const lag = tr.insertCell();
    lag.className = `num ${s.lag === null ? '' : s.lag === 0 ? 'ok' : s.lag < 1000 ? 'warn' : 'bad'}`;
    lag.textContent = s.lag === null ? '—' : int(s.lag);
    if (s.note) lag.title = s.note;
  }
  $('health-polled').textContent = h.polled_at ? `checked ${dateTime(h.polled_at)} UTC` : '';
}

/**
 * The derivation settings in force and the newest backfill: a progress bar while one runs (the
 * KPIs converge during it; event counters do not move), a line for an hour after it finished.
 * @param {any} d the health's `derivation` (null before an enricher recorded settings)
 * @param {number} now server time (ms)
 */
function renderDerivation(d, now) {
  $('health-derivation').textContent = d
    ? `${d.time_zone}, rules ${d.rules_version}, epoch ${int(d.epoch)}`
    : '—';
  const box = $('health-backfill');
  const b = d?.backfill;
  const recent = b && (b.status !== 'FINISHED' || now - (b.finished_at ?? now) < 3_600_000);
  box.hidden = !recent;
  if (!recent) return;
  const bar = $as('health-backfill-progress', HTMLProgressElement);
  const target = `${b.time_zone}, rules ${b.rules_version}`;
  if (b.status === 'FINISHED') {
    bar.value = 1;
    $('health-backfill-text').textContent =
      `Backfill epoch ${int(b.epoch)} (${target}) finished ${ago(now - b.finished_at)}: ${int(b.total)} records re-derived`;
  } else if (b.status === 'SWITCHING' || b.total === null) {
    bar.removeAttribute('value');
    $('health-backfill-text').textContent =
      `Backfill epoch ${int(b.epoch)} (${target}): switching the enrichers`;
  } else {
    bar.value = b.total > 0 ? b.done / b.total : 1;
    $('health-backfill-text').textContent =
      `Backfill epoch ${int(b.epoch)} (${target}) running: ${int(b.done)} of ${int(b.total)} records re-derived`;
  }
}
