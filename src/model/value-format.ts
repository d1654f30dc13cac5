// How a number is written on a text wire (Graphite plaintext, stdout).

/** The last timestamp written and its ` <unix seconds>\n`: every sample of a run has the same one. */
let tailMs = NaN;
let tail = '';

/** One Graphite plaintext line: `<path> <value> <unix seconds>\n`. */
export function plaintextLine(path: string, value: number, precision: number | undefined, timestampMs: number): string {
  // Called for every sample sent: three joins instead of five, with the end of the line reused.
  if (timestampMs !== tailMs) {
    tail = ` ${Math.floor(timestampMs / 1000)}\n`;
    tailMs = timestampMs;
  }
  return path + ' ' + formatValue(value, precision) + tail;
}

/**
 * With a precision, fixed decimals as Diamond sends them (`12.50`, `3`); without, the shortest
 * form that reads back as the same number (`0.1`, `1234`). Call only with finite values.
 */
export function formatValue(value: number, precision: number | undefined): string {
  if (precision !== undefined) {
    const fixed = value.toFixed(precision);
    // toFixed keeps a minus sign on values that round to zero ("-0.00"); a level of -0 is 0.
    return fixed.charCodeAt(0) === 45 && Number(fixed) === 0 ? fixed.slice(1) : fixed;
  }
  return Object.is(value, -0) ? '0' : String(value);
}
