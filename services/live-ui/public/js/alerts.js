// @ts-check
// Alerts from `cdc alerts`, pushed over the websocket (`alerts` messages, src/protocol.ts): a
// banner while any alert fires, and a panel listing firing alerts and the latest resolved ones
// (greyed). Built with textContent only: alert summaries are data, never markup.

/** @typedef {import('../../src/protocol').AlertsMessage} AlertsMessage */
/** @typedef {AlertsMessage['alerts'][number]} Alert */

/**
 * @param {string} tag
 * @param {string} className
 * @param {string} [text]
 */
function el(tag, className, text) {
  const e = document.createElement(tag);
  e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** @param {number} ms */
const clock = (ms) => new Date(ms).toLocaleTimeString();

/** @param {Alert[]} alerts */
export function renderAlerts(alerts) {
  const firing = alerts.filter((a) => a.status === 'FIRING');
  const banner = document.getElementById('alert-banner');
  if (banner) {
    banner.hidden = firing.length === 0;
    banner.dataset.firing = String(firing.length);
    const text = banner.querySelector('.alert-banner-text');
    if (text) {
      text.textContent =
        firing.length === 0
          ? ''
          : `${firing.length} alert${firing.length === 1 ? '' : 's'} firing: ${firing
              .slice(0, 3)
              .map((a) => a.summary)
              .join(' · ')}${firing.length > 3 ? ' …' : ''}`;
    }
  }
  const list = document.getElementById('alerts-list');
  if (!list) return;
  list.replaceChildren(
    ...alerts.map((a) => {
      const li = el('li', `alert-item ${a.status === 'FIRING' ? 'alert-firing' : 'alert-resolved'}`);
      li.dataset.alertId = a.alert_id;
      li.dataset.status = a.status;
      li.append(
        el('span', `alert-severity sev-${a.severity}`, a.severity),
        el('span', 'alert-rule', `${a.rule} · ${a.subject}`),
        el('span', 'alert-summary', a.summary),
        el(
          'span',
          'alert-time',
          a.status === 'FIRING'
            ? `firing since ${clock(a.transition_at)}`
            : `resolved ${clock(a.transition_at)}`,
        ),
      );
      return li;
    }),
  );
  const empty = document.getElementById('alerts-empty');
  if (empty) empty.hidden = alerts.length > 0;
}
