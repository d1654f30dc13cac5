// InfluxDB line protocol escaping (1.x): a measurement escapes commas and spaces; tag keys, tag
// values and field keys escape commas, equals signs and spaces, each with a backslash. A newline
// cannot be escaped at all (it ends the line), so a name holding one cannot be written.

const MEASUREMENT = /[, \\]/g;
const KEY = /[,= \\]/g;

/**
 * A backslash is escaped too: before an escapable character (or at the end) InfluxDB would read
 * it as an escape; elsewhere 1.x keeps `\\` as two, so only those positions are doubled.
 */
function escapeWith(s: string, re: RegExp): string {
  return s.replace(re, (c, offset: number) => {
    if (c !== '\\') return `\\${c}`;
    const next = s.charAt(offset + 1);
    return next === '' || next === ',' || next === ' ' || next === '=' || next === '\\' ? '\\\\' : '\\';
  });
}

export function escapeMeasurement(s: string): string {
  return escapeWith(s, MEASUREMENT);
}

/** For tag keys, tag values and field keys. */
export function escapeKey(s: string): string {
  return escapeWith(s, KEY);
}

export function hasNewline(s: string): boolean {
  return s.includes('\n') || s.includes('\r');
}
