// Text from a command line (`sonde collect --set key=value`, `sonde logster --parser-options`)
// turned into what an option's schema expects, as YAML would have typed it: `100` for a number,
// `true`/`false` for a boolean, `a,b` for a list. What the schema then refuses is refused with the
// option's name by the caller.
import type { z } from 'zod';
import { defOf, unwrap, valueKinds } from './introspect.js';

const TRUE = new Set(['true', 'yes', 'on', '1']);
const FALSE = new Set(['false', 'no', 'off', '0']);

/** The value `text` stands for under `schema`; text the schema takes as text is returned unchanged. */
export function coerceText(schema: z.ZodType, text: string): unknown {
  const s = unwrap(schema);
  // Durations and sizes are read from their text (`10s`, `64MiB`), as in the config file.
  if (valueKinds.has(s)) return text;
  const d = defOf(s);
  switch (d.type) {
    case 'number':
    case 'int':
    case 'bigint': {
      const t = text.trim();
      // Left as text when it is no number: the schema then says "expected number" about the key.
      const n = t === '' ? Number.NaN : Number(t);
      return Number.isFinite(n) ? n : text;
    }
    case 'boolean': {
      const t = text.trim().toLowerCase();
      return TRUE.has(t) ? true : FALSE.has(t) ? false : text;
    }
    case 'array':
    case 'set': {
      const t = text.trim();
      if (t.startsWith('[')) return jsonOr(text);
      if (t === '') return [];
      const element = d.element ?? (d as { valueType?: z.ZodType }).valueType;
      return t.split(',').map((x) => (element ? coerceText(element, x.trim()) : x.trim()));
    }
    case 'object':
    case 'record':
    case 'map':
      return text.trim().startsWith('{') ? jsonOr(text) : text;
    case 'union': {
      // A number where the union takes one (and the text is one), else the text.
      const options = d.options ?? [];
      for (const o of options) {
        const v = coerceText(o, text);
        if (v !== text) return v;
      }
      return text;
    }
    default:
      return text;
  }
}

function jsonOr(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
