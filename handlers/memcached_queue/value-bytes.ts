// A sample's value written straight into a buffer as the bytes of formatValue(value, precision),
// the text the graphite handler sends: no string and no allocation per sample on the common paths
// (integers, and fixed decimals up to 15 places below 2^53), formatValue itself for everything else.
import { formatValue, writeFixedAscii, writeIntAscii } from '../../src/plugin-api.js';

/** The most bytes `writeValue` writes: toFixed(100) of a value just below 1e21, with its sign. */
export const VALUE_MAX_BYTES = 124;

/**
 * At most how many bytes writeValue writes for this precision: String() of a double is at most 25
 * characters (`-1.2345678901234567e-100`), and so is toFixed with up to 2 decimals (a sign, 21
 * digits below 1e21, a point, 2 decimals); beyond, VALUE_MAX_BYTES.
 */
export function valueBound(precision: number | undefined): number {
  return precision === undefined || precision <= 2 ? 25 : VALUE_MAX_BYTES;
}

const POW10: readonly number[] = Array.from({ length: 16 }, (_, i) => 10 ** i);
/** Below this, every integer is exact in a double and so is `n / 10`, `n % 10`. */
const EXACT = 2 ** 53;
const ZERO = 48;
const MINUS = 45;
const DOT = 46;

/** Writes an ASCII string (what formatValue returns) at `pos`; the position after it. */
export function writeAscii(buf: Uint8Array, pos: number, s: string): number {
  for (let i = 0; i < s.length; i++) buf[pos + i] = s.charCodeAt(i);
  return pos + s.length;
}

/** How many decimal digits an integer below 2^31 has. */
function digits32(n: number): number {
  return n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : n < 10000 ? 4 : n < 100000 ? 5 : n < 1000000 ? 6 : n < 10000000 ? 7 : n < 100000000 ? 8 : n < 1000000000 ? 9 : 10;
}

/** "00" to "99": the two digits of each number below 100, for writing two at a time. */
const PAIRS = new Uint8Array(200);
for (let i = 0; i < 100; i++) {
  PAIRS[2 * i] = ZERO + ((i / 10) | 0);
  PAIRS[2 * i + 1] = ZERO + (i % 10);
}

/** The last `d` decimal digits of `n` (0 ≤ n < 2^31, zeros in front when it has fewer), ending just before `end`; int32 arithmetic, two digits a step. */
function write32(buf: Uint8Array, end: number, n: number, d: number): void {
  let p = end;
  while (d >= 2) {
    const q = (n / 100) | 0;
    const r = (n - q * 100) << 1;
    buf[--p] = PAIRS[r + 1]!;
    buf[--p] = PAIRS[r]!;
    n = q;
    d -= 2;
  }
  if (d === 1) buf[--p] = ZERO + (n % 10);
}

/** Dekker's split of a double into two of 26 bits, for an exact product. */
const SPLIT = 134217729;
const POW10_HI: readonly number[] = POW10.map((b) => SPLIT * b - (SPLIT * b - b));
const POW10_LO: readonly number[] = POW10.map((b, i) => b - POW10_HI[i]!);

/**
 * Which integer toFixed(precision) rounds `abs` (positive, at least 1e-200) to, given `x`, the
 * rounded product abs × 10^precision, below 2^53; -1 when it cannot say cheaply. toFixed rounds the
 * exact product to the nearest integer, a tie up: away from .5 the rounded product tells; near
 * .5 the product's rounding error, found exactly (Dekker), does.
 */
function fixedInteger(abs: number, precision: number, x: number): number {
  const n = Math.floor(x);
  const f = x - n;
  if (f < 0.25) return n;
  if (f > 0.75) return n + 1;
  // abs × 10^precision = x + err exactly, and f - 0.5 is exact here: the sign of their sum decides.
  const c = SPLIT * abs;
  const ah = c - (c - abs);
  const al = abs - ah;
  const bh = POW10_HI[precision]!;
  const bl = POW10_LO[precision]!;
  const err = ah * bh - x + ah * bl + al * bh + al * bl;
  return f - 0.5 + err >= 0 ? n + 1 : n;
}

/** `m` (below 2^31) with `precision` (0 to 9) decimals, "-" in front when `minus`. */
function writeFixed32(buf: Uint8Array, pos: number, minus: boolean, m: number, precision: number): number {
  if (minus) buf[pos++] = MINUS;
  const int = precision === 2 ? (m / 100) | 0 : (m / POW10[precision]!) | 0;
  const d = digits32(int);
  write32(buf, pos + d, int, d);
  if (precision === 0) return pos + d;
  buf[pos + d] = DOT;
  const end = pos + d + 1 + precision;
  write32(buf, end, m - int * POW10[precision]!, precision);
  return end;
}

/** What writeSampleValue reads of a sample. */
export interface ValueOf {
  readonly value: number;
  readonly precision: number | undefined;
}

/**
 * writeValue(buf, pos, s.value, s.precision), for the loop over a batch's samples. It takes the
 * sample, not its value: a double passed to a function the compiler did not inline is boxed, one
 * allocation per sample. The usual cases (up to 9 decimals below 2^31 once scaled, integers below
 * 2^31 without a precision) are done here, with int32 arithmetic past the rounding.
 */
export function writeSampleValue(buf: Uint8Array, pos: number, s: ValueOf): number {
  const value = s.value;
  const precision = s.precision;
  if (precision === undefined) {
    // -0 | 0 is 0: written 0, as formatValue does. An int32 but -2^31, whose magnitude is not one.
    if (value === (value | 0) && value !== -2147483648) return writeFixed32(buf, pos, value < 0, value < 0 ? -value : value, 0);
  } else if (precision >= 0 && precision <= 9 && Math.floor(precision) === precision) {
    const neg = value < 0;
    const abs = neg ? -value : value;
    const x = abs * POW10[precision]!;
    if (x < 2147483647 && (abs >= 1e-200 || abs === 0)) {
      // As fixedInteger: away from .5 the rounded product tells, near it its exact error does.
      let m = Math.floor(x);
      const f = x - m;
      if (f > 0.75) m++;
      else if (f >= 0.25) {
        const c = SPLIT * abs;
        const ah = c - (c - abs);
        const al = abs - ah;
        const bh = POW10_HI[precision]!;
        const bl = POW10_LO[precision]!;
        if (f - 0.5 + (ah * bh - x + ah * bl + al * bh + al * bl) >= 0) m++;
      }
      return writeFixed32(buf, pos, neg && m !== 0, m, precision);
    }
  }
  return writeValue(buf, pos, value, precision);
}

/** A sample's Unix seconds, Math.floor(timestamp / 1000), as writeValue writes them; takes the sample, as writeSampleValue. */
export function writeSeconds(buf: Uint8Array, pos: number, s: { readonly timestamp: number }): number {
  const sec = Math.floor(s.timestamp / 1000);
  // An int32 but -2^31, whose magnitude is not one.
  if (sec === (sec | 0) && sec !== -2147483648) return writeFixed32(buf, pos, sec < 0, sec < 0 ? -sec : sec, 0);
  return writeValue(buf, pos, sec, undefined);
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
      if (abs < 2147483648) {
        const d = digits32(abs);
        write32(buf, pos + d, abs, d);
        return pos + d;
      }
      return writeIntAscii(buf, pos, abs);
    }
    return writeAscii(buf, pos, formatValue(value, precision));
  }
  if (precision >= 0 && precision <= 15 && Math.floor(precision) === precision && abs < 1e21 && (abs >= 1e-200 || abs === 0)) {
    const x = abs * POW10[precision]!;
    if (x < EXACT) {
      const m = fixedInteger(abs, precision, x);
      // toFixed writes "-" for a negative value and formatValue drops it again when all digits are 0.
      if (neg && m !== 0) buf[pos++] = MINUS;
      // int32 arithmetic: an integer part and `precision` decimals, at least one digit before the point.
      if (m < 2147483648 && precision <= 9) return writeFixed32(buf, pos, false, m, precision);
      return writeFixedAscii(buf, pos, m, precision);
    }
  }
  return writeAscii(buf, pos, formatValue(value, precision));
}
