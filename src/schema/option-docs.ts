// One row per option of a schema (key, type, default, help), read back from the schema itself:
// for `sonde list`, `--parser-help` and the README's reference.
import type { z } from 'zod';
import { defaultOf, defOf, rangeText, typeName, unwrap } from './introspect.js';

export interface OptionDoc {
  readonly key: string;
  readonly type: string;
  readonly default: string;
  readonly help: string;
}

function showDefault(v: unknown): string {
  if (v === undefined) return '';
  if (typeof v === 'string') return v === '' ? '""' : v;
  return JSON.stringify(v);
}

/** The help text and, when the schema refuses values out of a range, that range. */
function withRange(help: string, schema: z.ZodType): string {
  const range = rangeText(schema);
  if (range === undefined) return help;
  return help === '' ? `Range: ${range}.` : `${help}${/[.!?]$/.test(help) ? '' : '.'} Range: ${range}.`;
}

/**
 * One row per option; the keys of a nested fixed mapping get rows of their own (`a.b`), and so do
 * the keys of each item of a list of mappings (`a[].b`).
 */
export function optionDocs(shape: Record<string, z.ZodType>, prefix = ''): OptionDoc[] {
  return Object.entries(shape).flatMap(([key, schema]) => {
    const help = schema.description ?? unwrap(schema).description ?? '';
    const inner = defOf(unwrap(schema));
    if (inner.type === 'object' && inner.shape && Object.keys(inner.shape).length > 0) {
      return [{ key: `${prefix}${key}`, type: 'mapping', default: '', help }, ...optionDocs(inner.shape, `${prefix}${key}.`)];
    }
    if (inner.type === 'record') {
      // A mapping of named entries (mysql's instances): each entry's keys, under `<name>`.
      const item = defOf(unwrap((inner as { valueType?: z.ZodType }).valueType!));
      if (item.type === 'object' && item.shape && Object.keys(item.shape).length > 0) {
        return [{ key: `${prefix}${key}`, type: 'mapping', default: showDefault(defaultOf(schema)), help }, ...optionDocs(item.shape, `${prefix}${key}.<name>.`)];
      }
    }
    if (inner.type === 'array') {
      const item = defOf(unwrap((inner as { element?: z.ZodType }).element!));
      if (item.type === 'object' && item.shape && Object.keys(item.shape).length > 0) {
        return [{ key: `${prefix}${key}`, type: typeName(schema), default: showDefault(defaultOf(schema)), help }, ...optionDocs(item.shape, `${prefix}${key}[].`)];
      }
    }
    return [{ key: `${prefix}${key}`, type: typeName(schema), default: showDefault(defaultOf(schema)), help: withRange(help, schema) }];
  });
}
