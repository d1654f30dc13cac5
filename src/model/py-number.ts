// Numbers as Python 3's str() prints them: Logster prints every value that way (docs/compat.md,
// "Python's str() of numbers").

/**
 * An int prints as its digits; a float as its shortest round-trip digits, always with a decimal
 * part or an exponent: `0.0`, `40.0`, `1e-05`, `1e+16`. Python switches to exponent notation when
 * the decimal exponent is below -4 or at least 16; JavaScript only below -6 or from 21 up, so the
 * digits come from toExponential() (also shortest round-trip) and the layout is Python's.
 */
export function pyStr(value: number, float: boolean): string {
  if (!float) {
    if (Number.isInteger(value)) return Math.abs(value) < 1e21 ? String(value) : BigInt(value).toString();
    // A parser declared an int but produced a fraction: print what Python would for that float.
  }
  if (value !== value) return 'nan';
  if (value === Infinity) return 'inf';
  if (value === -Infinity) return '-inf';
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  const exp = value.toExponential(); // "-1.2345e+21"
  const e = exp.indexOf('e');
  const neg = exp.charCodeAt(0) === 45;
  const mantissa = exp.slice(neg ? 1 : 0, e);
  const digits = mantissa.length > 1 ? mantissa[0] + mantissa.slice(2) : mantissa;
  const x = Number(exp.slice(e + 1)); // value = d.ddd × 10^x
  const sign = neg ? '-' : '';
  if (x < -4 || x >= 16) {
    const frac = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const ax = Math.abs(x);
    return `${sign}${frac}e${x < 0 ? '-' : '+'}${ax < 10 ? '0' : ''}${ax}`;
  }
  if (x < 0) return `${sign}0.${'0'.repeat(-x - 1)}${digits}`;
  if (digits.length <= x + 1) return `${sign}${digits}${'0'.repeat(x + 1 - digits.length)}.0`;
  return `${sign}${digits.slice(0, x + 1)}.${digits.slice(x + 1)}`;
}

const PY_FLOAT = /^[+-]?(?:(?:\d(?:_?\d)*)(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?$/;
const PY_SPECIAL = /^[+-]?(?:inf|infinity|nan)$/i;

/** Python's float(text): surrounding whitespace allowed, `_` between digits, inf and nan; undefined where Python raises. */
export function pyFloat(text: string): number | undefined {
  const t = text.trim();
  if (PY_FLOAT.test(t)) return Number(t.includes('_') ? t.replaceAll('_', '') : t);
  if (PY_SPECIAL.test(t)) {
    const neg = t.charCodeAt(0) === 45;
    return /nan/i.test(t) ? NaN : neg ? -Infinity : Infinity;
  }
  return undefined;
}
