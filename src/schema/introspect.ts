// Looks inside zod schemas: for config docs, `<key>_file` secrets and "did you mean" hints.
import type { z } from 'zod';

interface Def {
  type: string;
  innerType?: z.ZodType;
  defaultValue?: unknown;
  shape?: Record<string, z.ZodType>;
  valueType?: z.ZodType;
  element?: z.ZodType;
  in?: z.ZodType;
  options?: z.ZodType[];
  entries?: Record<string, unknown>;
}

/** Schemas built by duration() and bytes(), so docs can name them. */
export const valueKinds = new WeakMap<object, string>();

/** The accepted range of a duration() or bytes() schema, as its messages write the bounds. */
export interface ValueRange {
  readonly min: string;
  readonly max: string;
  /** The lower bound is 0 (nothing refused below). */
  readonly zero: boolean;
}

/** Ranges of the schemas built by duration() and bytes(), so docs can say what is refused. */
export const valueRanges = new WeakMap<object, ValueRange>();

export function defOf(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

/** Strips optional/default/prefault/nullable/pipe wrappers down to the schema that holds the value. */
export function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  for (let i = 0; i < 20; i++) {
    const d = defOf(s);
    if ((d.type === 'optional' || d.type === 'default' || d.type === 'prefault' || d.type === 'nullable' || d.type === 'readonly') && d.innerType) s = d.innerType;
    else if (d.type === 'pipe' && d.in) s = d.in;
    else break;
  }
  return s;
}

/** The schema one step down a key path, or undefined. */
export function childSchema(schema: z.ZodType, key: string | number): z.ZodType | undefined {
  const d = defOf(unwrap(schema));
  if (d.type === 'object' && d.shape && typeof key === 'string') return d.shape[key];
  if (d.type === 'record') return d.valueType;
  if (d.type === 'array') return d.element;
  return undefined;
}

export function objectKeys(schema: z.ZodType): string[] | undefined {
  const d = defOf(unwrap(schema));
  return d.type === 'object' && d.shape ? Object.keys(d.shape) : undefined;
}

export function schemaAt(schema: z.ZodType, path: readonly (string | number)[]): z.ZodType | undefined {
  let s: z.ZodType | undefined = schema;
  for (const k of path) {
    if (s === undefined) return undefined;
    s = childSchema(s, k);
  }
  return s;
}

/** The default a key gets when it is left out, if any (prefault values are shown as written). */
export function defaultOf(schema: z.ZodType): unknown {
  let s = schema;
  for (let i = 0; i < 20; i++) {
    const d = defOf(s);
    if (d.type === 'default' || d.type === 'prefault') return typeof d.defaultValue === 'function' ? (d.defaultValue as () => unknown)() : d.defaultValue;
    if ((d.type === 'optional' || d.type === 'nullable') && d.innerType) s = d.innerType;
    else return undefined;
  }
  return undefined;
}

/**
 * What a value must lie within, for docs: `100ms to 1d`, `at most 1h`, `1 to 1000000`; undefined
 * when any value of its type is accepted. Numbers report their `.min()`/`.max()`.
 */
export function rangeText(schema: z.ZodType): string | undefined {
  const s = unwrap(schema);
  const r = valueRanges.get(s);
  if (r) return r.zero ? `at most ${r.max}` : `${r.min} to ${r.max}`;
  if (defOf(s).type !== 'number') return undefined;
  const n = s as unknown as { minValue: number | null; maxValue: number | null };
  const lo = n.minValue !== null && Math.abs(n.minValue) < Number.MAX_SAFE_INTEGER ? n.minValue : undefined;
  const hi = n.maxValue !== null && Math.abs(n.maxValue) < Number.MAX_SAFE_INTEGER ? n.maxValue : undefined;
  if (lo !== undefined && hi !== undefined) return `${lo} to ${hi}`;
  if (lo !== undefined) return `at least ${lo}`;
  if (hi !== undefined) return `at most ${hi}`;
  return undefined;
}

/** A short type name for docs: string, number, boolean, duration, list, one of a|b. */
export function typeName(schema: z.ZodType): string {
  const s = unwrap(schema);
  const kind = valueKinds.get(s);
  if (kind) return kind;
  const d = defOf(s);
  switch (d.type) {
    case 'enum':
      return `one of ${Object.keys(d.entries ?? {}).join(' | ')}`;
    case 'array':
      return `list of ${d.element ? typeName(d.element) : 'values'}`;
    case 'record':
      return 'mapping';
    case 'object':
      return 'mapping';
    case 'union': {
      const kinds = (d.options ?? []).map((o) => defOf(o).type);
      if (kinds.includes('string') && kinds.includes('number')) return 'duration or size';
      return kinds.join(' | ');
    }
    default:
      return d.type;
  }
}

/** The closest candidate by edit distance, when it is close enough to be a likely typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const dist = editDistance(word.toLowerCase(), c.toLowerCase());
    if (dist < bestD) {
      bestD = dist;
      best = c;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}
