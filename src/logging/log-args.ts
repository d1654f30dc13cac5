// A plugin logger's two argument orders, ours `(msg, fields)` and pino's `(fields, msg)`, read as
// one message and its fields. Its own file: `sonde logster` uses it without loading pino.

/** An Error becomes the `err` field (pino prints its stack); anything else unexpected is printed, never dropped. */
export function logArgs(a: unknown, b: unknown): { msg: string; fields: Record<string, unknown> | undefined } {
  if (typeof a === 'string') {
    if (b === undefined || b === null) return { msg: a, fields: undefined };
    if (b instanceof Error) return { msg: a, fields: { err: b } };
    if (typeof b === 'object' && !Array.isArray(b)) return { msg: a, fields: b as Record<string, unknown> };
    return { msg: `${a} ${text(b)}`, fields: undefined };
  }
  if (a instanceof Error) return { msg: b === undefined ? a.message : text(b), fields: { err: a } };
  if (typeof a === 'object' && a !== null && !Array.isArray(a)) return { msg: text(b), fields: a as Record<string, unknown> };
  return { msg: b === undefined ? text(a) : `${text(a)} ${text(b)}`, fields: undefined };
}

/** The message and its fields on one line, for logs that are plain text (Logster's run log). */
export function logLine(a: unknown, b: unknown): string {
  const { msg, fields } = logArgs(a, b);
  if (!fields || Object.keys(fields).length === 0) return msg;
  const shown = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, v instanceof Error ? v.message : v]));
  return `${msg} ${text(shown)}`;
}

function text(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === undefined) return '';
  if (v instanceof Error) return v.message;
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
