// A sample's value written straight into a buffer as the bytes of formatValue(value, precision),
// the text the graphite handler sends: no string per sample on the common paths (integers, and
// fixed decimals whose rounding is not a near tie), formatValue itself for everything else.
import { formatValue } from '../../src/plugin-api.js';

/** The most bytes `writeValue` writes: toFixed(100) of a value just below 1e21, with its sign. */
export const VALUE_MAX_BYTES = 124;

const POW10: readonly number[] = Array.from({ length: 16 }, (_, i) => 10 ** i);
/** Below this, every integer is exact in a double and so is `n / 10`, `n % 10`. */
const EXACT = 2 ** 53;
const ZERO = 48;
const MINUS = 45;
const DOT = 46;

/** The decimal digits of the integer `n` (0 ≤ n < 2^53), ending just before `end`. */
function digitsBefore(buf: Uint8Array, end: number, n: number): void {
  let p = end;
  do {
    const q = Math.floor(n / 10);
    buf[--p] = ZERO + (n - q * 10);
    n = q;
  } while (n > 0);
}

function digitCount(n: number): number {
  let d = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    d++;
  }
  return d;
}

/** Writes an ASCII string (what formatValue returns) at `pos`; the position after it. */
export function writeAscii(buf: Uint8Array, pos: number, s: string): number {
  for (let i = 0; i < s.length; i++) buf[pos + i] = s.charCodeAt(i);
  return pos + s.length;
}

/**
 * Writes formatValue(value, precision) at `pos` and returns the position after it; `buf` must have
 * VALUE_MAX_BYTES of room there. Throws where formatValue throws (a precision toFixed refuses).
 */
export function writeValue(buf: Uint8Array, pos: number, value: number, precision: number | undefined): number {
  const neg = value < 0;
  const abs = neg ? -value : value;
  if (precision === undefined) {
    // String(value) of an integer below 2^53 is its digits; -0 is written 0, as formatValue does.
    if (abs < EXACT && Math.floor(abs) === abs) {
      if (neg) buf[pos++] = MINUS;
      const d = digitCount(abs);
      digitsBefore(buf, pos + d, abs);
      return pos + d;
    }
    return writeAscii(buf, pos, formatValue(value, precision));
  }
  if (precision >= 0 && precision <= 15 && Math.floor(precision) === precision && abs < 1e21) {
    // toFixed rounds the exact value of `value` times 10^precision to the nearest integer, a tie
    // up. The product below is within half an ulp of the exact one; unless its fraction is that
    // close to .5, rounding it gives the same integer.
    const x = abs * POW10[precision]!;
    if (x < EXACT) {
      const n = Math.floor(x);
      const f = x - n;
      const margin = x * 2.3e-16 + 1e-300;
      if (f < 0.5 - margin || f > 0.5 + margin) {
        const m = f < 0.5 ? n : n + 1;
        // toFixed writes "-" for a negative value and formatValue drops it again when all digits are 0.
        if (neg && m !== 0) buf[pos++] = MINUS;
        if (precision === 0) {
          const d = digitCount(m);
          digitsBefore(buf, pos + d, m);
          return pos + d;
        }
        // At least one digit before the point: 0.05 for m = 5 with two decimals.
        const d = Math.max(digitCount(m), precision + 1);
        const end = pos + d + 1;
        const scale = POW10[precision]!;
        // The quotient is rounded; the remainder says which way, and puts it right.
        let int = Math.floor(m / scale);
        let frac = m - int * scale;
        if (frac < 0) {
          int--;
          frac += scale;
        } else if (frac >= scale) {
          int++;
          frac -= scale;
        }
        for (let p = end - 1; p > end - 1 - precision; p--) {
          const q = Math.floor(frac / 10);
          buf[p] = ZERO + (frac - q * 10);
          frac = q;
        }
        buf[end - 1 - precision] = DOT;
        digitsBefore(buf, end - 1 - precision, int);
        return end;
      }
    }
  }
  return writeAscii(buf, pos, formatValue(value, precision));
}
