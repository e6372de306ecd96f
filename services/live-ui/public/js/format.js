// @ts-check
// Display formatting. Amounts arrive as integer cents and are only turned into text here,
// with integer arithmetic (no floating-point money).

let currency = '$';

export function setCurrencySymbol(symbol) {
  currency = symbol;
}

const group = (digits) => digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');

/** 12345 -> "$123.45"; -5 -> "-$0.05"; null -> "—". */
export function money(cents) {
  if (cents === null || cents === undefined || !Number.isFinite(Number(cents))) return '—';
  const c = Math.round(Number(cents));
  const abs = Math.abs(c);
  const units = Math.floor(abs / 100);
  const rest = abs % 100;
  return `${c < 0 ? '-' : ''}${currency}${group(String(units))}.${String(rest).padStart(2, '0')}`;
}

export function int(n) {
  if (n === null || n === undefined || !Number.isFinite(Number(n))) return '—';
  const v = Math.round(Number(n));
  return `${v < 0 ? '-' : ''}${group(String(Math.abs(v)))}`;
}

/** 12.5 -> "12.50%". */
export function percent(p) {
  if (p === null || p === undefined || !Number.isFinite(Number(p))) return '—';
  return `${Number(p).toFixed(2)}%`;
}

/** A duration in ms as "850 ms", "4.2 s", "3 min", "2 h". */
export function duration(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min`;
  if (ms < 86_400_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  return `${Math.floor(ms / 86_400_000)} d`;
}

export function ago(ms) {
  return ms === null || ms === undefined ? '—' : `${duration(ms)} ago`;
}

/** Epoch ms as "2025-09-03 10:05" (UTC: booking dates are derived in the pipeline's zone, UTC by default). */
export function dateTime(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(Number(ms))) return '—';
  const iso = new Date(Number(ms)).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
}

export const DAY_NAMES = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
