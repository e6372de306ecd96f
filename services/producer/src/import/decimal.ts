/**
 * Exact decimal money to integer cents, on the text itself: no floating point ever touches a
 * price, so `15.10` is 1510 and `15.005` is refused instead of rounded. Accepted: an optional
 * sign, digits, and at most two decimals (more are allowed only when they are zeros: `15.000`).
 */
export type CentsResult = { ok: true; cents: number } | { ok: false; reason: string };

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?$/;

export function decimalToCents(text: string): CentsResult {
  const s = text.trim();
  const m = DECIMAL.exec(s);
  if (m === null || (m[2] === '' && (m[3] ?? '') === '')) {
    return { ok: false, reason: `'${text}' is not a decimal number` };
  }
  const [, sign, whole = '', fraction = ''] = m;
  const kept = fraction.slice(0, 2).padEnd(2, '0');
  if (/[1-9]/.test(fraction.slice(2))) {
    return { ok: false, reason: `'${text}' has more than two decimals (cents are exact; it is not rounded)` };
  }
  const digits = `${whole.replace(/^0+/, '')}${kept}`.replace(/^0+/, '');
  // Beyond 2^53 cents an integer is no longer exact in JavaScript (and beyond any real price).
  if (digits.length > 15) return { ok: false, reason: `'${text}' is too large for a price` };
  const cents = digits === '' ? 0 : Number(digits);
  return { ok: true, cents: sign === '-' && cents !== 0 ? -cents : cents };
}

/** A whole number (ticket counts): optional sign and digits, within a 32-bit int. */
export function parseWholeNumber(text: string): { ok: true; value: number } | { ok: false; reason: string } {
  const s = text.trim();
  let m = /^([+-]?)(\d+)$/.exec(s);
  // Exports of numeric columns often write integers as 2.0 or 2.00.
  m ??= /^([+-]?)(\d+)\.0*$/.exec(s);
  if (m === null) return { ok: false, reason: `'${text}' is not a whole number` };
  const value = Number(`${m[1]}${m[2]}`);
  if (value > 2_147_483_647 || value < -2_147_483_648) {
    return { ok: false, reason: `'${text}' is out of range for a ticket count` };
  }
  return { ok: true, value: value === 0 ? 0 : value };
}
