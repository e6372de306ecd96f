/**
 * Exact decimal money to integer cents, on the text itself: no floating point ever touches a
 * price, so `15.10` is 1510 and `15.005` is refused instead of rounded. Accepted: an optional
 * sign, digits, and at most two decimals (more are allowed only when they are zeros: `15.000`).
 */
export type CentsResult = { ok: true; cents: number } | { ok: false; reason: string };

const PLUS = 43;
const MINUS = 45;
const DOT = 46;
/** The digit a character code stands for, or -1. */
const digit = (code: number): number => (code >= 48 && code <= 57 ? code - 48 : -1);

/** One pass over the characters (a regex and its match arrays cost more, for every price of an import). */
export function decimalToCents(text: string): CentsResult {
  const s = text.trim();
  const n = s.length;
  let i = 0;
  const first = s.charCodeAt(0);
  const negative = first === MINUS;
  if (first === PLUS || first === MINUS) i++;
  let cents = 0;
  /** Digits from the first non-zero one (whole digits and the two kept decimals). */
  let significant = 0;
  let whole = 0;
  for (let d: number; i < n && (d = digit(s.charCodeAt(i))) >= 0; i++, whole++) {
    if (significant > 0 || d !== 0) significant++;
    cents = cents * 10 + d;
  }
  let decimals = 0;
  let beyondCents = false;
  if (i < n && s.charCodeAt(i) === DOT) {
    for (i++; i < n; i++, decimals++) {
      const d = digit(s.charCodeAt(i));
      if (d < 0) break;
      if (decimals >= 2) {
        if (d !== 0) beyondCents = true;
        continue;
      }
      if (significant > 0 || d !== 0) significant++;
      cents = cents * 10 + d;
    }
  }
  if (i !== n || whole + decimals === 0) return { ok: false, reason: `'${text}' is not a decimal number` };
  for (let k = decimals; k < 2; k++) {
    if (significant > 0) significant++;
    cents *= 10;
  }
  if (beyondCents) {
    return { ok: false, reason: `'${text}' has more than two decimals (cents are exact; it is not rounded)` };
  }
  // Beyond 2^53 cents an integer is no longer exact in JavaScript (and beyond any real price).
  if (significant > 15) return { ok: false, reason: `'${text}' is too large for a price` };
  return { ok: true, cents: negative && cents !== 0 ? -cents : cents };
}

/** A whole number (ticket counts): optional sign and digits, within a 32-bit int; 2.0 or 2.00 as exports write integers. */
export function parseWholeNumber(text: string): { ok: true; value: number } | { ok: false; reason: string } {
  const s = text.trim();
  const n = s.length;
  let i = 0;
  const first = s.charCodeAt(0);
  if (first === PLUS || first === MINUS) i++;
  let value = 0;
  const start = i;
  for (let d: number; i < n && (d = digit(s.charCodeAt(i))) >= 0; i++) value = value * 10 + d;
  const digits = i - start;
  if (i < n && s.charCodeAt(i) === DOT) for (i++; i < n && s.charCodeAt(i) === 48; i++);
  if (digits === 0 || i !== n) return { ok: false, reason: `'${text}' is not a whole number` };
  if (first === MINUS) value = -value;
  if (value > 2_147_483_647 || value < -2_147_483_648) {
    return { ok: false, reason: `'${text}' is out of range for a ticket count` };
  }
  return { ok: true, value: value === 0 ? 0 : value };
}
