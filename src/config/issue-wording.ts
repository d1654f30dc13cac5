// How a schema's complaint reads in a config error: one located line per problem, in words an
// operator knows ("expected a number, got "ten""), not zod's.
import type { z } from 'zod';
import type { ConfigProblem, RawConfig } from './read-files.js';
import type { KeyPath } from './yaml-source.js';
import { closest, objectKeys, schemaAt } from '../schema/introspect.js';
import { diamondKeyHint, diamondPlugin } from './diamond-names.js';
import { suggestion } from './suggest.js';

/** A value as a config error quotes it: strings in quotes, containers by kind. */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null (an empty value)';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' && Number.isNaN(v)) return 'NaN (not a number)';
  if (typeof v === 'number' && !Number.isFinite(v)) return `${v} (a number too large to use)`;
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return String(v);
}

const ARTICLE: Record<string, string> = {
  number: 'a number',
  int: 'a whole number',
  string: 'a string',
  boolean: 'true or false',
  object: 'a mapping of keys',
  array: 'a list',
  record: 'a mapping of keys',
};

/** Turns one zod issue into located problems. */
export function issueProblems(issue: z.core.$ZodIssue, base: KeyPath, schema: z.ZodType, raw: RawConfig): ConfigProblem[] {
  const local = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  const path = [...base, ...local];
  const at = (p: KeyPath, message: string): ConfigProblem => ({ origin: raw.originOf(p), path: p, message });
  const input = (issue as { input?: unknown }).input;
  switch (issue.code) {
    case 'invalid_type': {
      // zod reports `.inf`, `1e400` and `.nan` with no input (JSON has none of them), only their name.
      const received = (issue as { received?: unknown }).received;
      if (received === 'Infinity' || received === 'NaN') return [at(path, `expected ${ARTICLE[issue.expected] ?? issue.expected}, got ${describeValue(Number(received))}`)];
      if (input === undefined) return [at(path, `is required (${ARTICLE[issue.expected] ?? issue.expected})`)];
      return [at(path, `expected ${ARTICLE[issue.expected] ?? issue.expected}, got ${describeValue(input)}`)];
    }
    case 'unrecognized_keys': {
      const known = objectKeys(schemaAt(schema, local) ?? schema) ?? [];
      return issue.keys.map((k) => {
        const diamond = diamondKeyHint(k, known);
        const hint = diamond ? undefined : closest(k, known);
        const msg = diamond ? `unknown key; ${diamond}` : hint ? `unknown key; did you mean "${hint}"?` : `unknown key; known keys here: ${known.join(', ')}`;
        return at([...path, k], msg);
      });
    }
    case 'invalid_value':
      return [at(path, `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${describeValue(input)}`)];
    case 'too_small':
      return [at(path, `must be at least ${String(issue.minimum)}, got ${describeValue(input)}`)];
    case 'too_big':
      return [at(path, `must be at most ${String(issue.maximum)}, got ${describeValue(input)}`)];
    case 'invalid_union': {
      // Our unions are duration/size (string or number); anything else lands here.
      return [at(path, `expected a duration or size such as 10s or 64MiB, got ${describeValue(input)}`)];
    }
    default:
      return [at(path, issue.message)];
  }
}

/**
 * What sonde says when no handler is enabled (the packaged config starts that way): at start in
 * the agent's log, in `sonde check-config` and, word for word, in the package's postinst.
 */
export function noHandlerHint(files: readonly string[], applies: 'agent' | 'once'): string {
  const where = files.length > 0 ? ` in ${files.join(', ')}` : '';
  const lost = applies === 'agent' ? 'samples are collected and thrown away' : 'nothing will be sent';
  return `no handler is enabled${where}: ${lost}. Enable one under handlers: (graphite sends to carbon), check the file with "sonde check-config", then apply it with "systemctl reload sonde" (or SIGHUP)`;
}

/** A section (or its `type`) that names no plugin: the closest name, or Diamond's name for one. */
export function unknownPluginMessage(kind: 'collector' | 'handler', type: string, names: readonly string[]): string {
  const hint = suggestion(type, names, kind);
  const ours = diamondPlugin(type);
  const rename = ours?.kind === kind ? `: rename the section ${ours.name}: or write type: ${ours.name}` : '';
  return `no ${kind} named "${type}"${hint ? `; ${hint}${rename}` : ''} (available: ${names.join(', ') || 'none'}; run "sonde list")`;
}
