// /proc/vmstat: `pgfault 1000`, one counter a line (about 190 of them).

/**
 * The values of `fields` in /proc/vmstat's text, found by search instead of parsing the ~190
 * other lines; undefined for a field that is missing or not a number.
 */
export function vmstatFields(text: string, fields: readonly string[]): (number | undefined)[] {
  return fields.map((f) => {
    let at = text.startsWith(`${f} `) ? 0 : text.indexOf(`\n${f} `);
    if (at < 0) return undefined;
    if (at > 0) at++;
    const from = at + f.length + 1;
    const nl = text.indexOf('\n', from);
    const v = Number(text.slice(from, nl < 0 ? text.length : nl));
    return Number.isFinite(v) ? v : undefined;
  });
}
