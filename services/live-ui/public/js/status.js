// @ts-check
// The header's live indicator and freshness figures.
import { $ } from './dom.js';
import { ago, duration } from './format.js';

/**
 * The live indicator: connected, connecting, or reconnecting (with when and which attempt).
 * @param {string} s 'live' | 'connecting' | 'reconnecting'
 * @param {{ delayMs?: number, attempt?: number }} [detail]
 */
export function setLiveState(s, detail) {
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

/**
 * Time since the last change (on the server's clock) and the last change-to-screen lag.
 * @param {{ lastChangeAtMs: number, e2eLagMs: number | null, clockOffsetMs: number }} f
 */
export function showFreshness(f) {
  const now = Date.now() + f.clockOffsetMs;
  $('since-last-change').textContent = f.lastChangeAtMs ? ago(now - f.lastChangeAtMs) : '—';
  $('e2e-lag').textContent = duration(f.e2eLagMs);
}
