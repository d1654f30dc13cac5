// `sonde config [SECTION...]`: a complete, commented sonde.yaml written from the schemas — every
// global key, every plugin's section with every option, the keys each section shares — with the
// help text `sonde list` and the README show (optionDocs). What it prints passes check-config.
import type { z } from 'zod';
import { collectorCommonShape, globalSchema, handlerCommonShape } from '../config/global-schema.js';
import { sharedOptionDocs } from '../config/plugin-docs.js';
import type { AnyCollector, AnyHandler, Registry } from '../plugins/registry.js';
import { defaultOf, defOf, unwrap } from '../schema/introspect.js';
import { optionDocs, type OptionDoc } from '../schema/option-docs.js';
import { VERSION } from '../model/version.js';
import { suggestion } from '../config/suggest.js';
import { diamondPlugin } from '../config/diamond-names.js';
import { formatPath, parseYaml } from '../config/yaml-source.js';
import { issueProblems } from '../config/issue-wording.js';
import type { RawConfig } from '../config/read-files.js';
import { collectorSchema } from '../config/collector-section.js';
import { handlerSchema } from '../config/handler-section.js';

const WIDTH = 100;

/** A SECTION argument that names nothing `sonde config` can print. */
export class UnknownSectionError extends Error {}

type Shape = Record<string, z.ZodType>;

interface Writer {
  lines: string[];
}

/** Help text as `## ` lines at `indent`, wrapped at WIDTH (a key commented out is `# key:`, as in Telegraf's samples). */
function comment(w: Writer, indent: string, text: string): void {
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line !== '' && indent.length + 3 + line.length + 1 + word.length > WIDTH) {
      w.lines.push(`${indent}## ${line}`);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') w.lines.push(`${indent}## ${line}`);
}

/** The lines of a block as comments: keys get `# `, help lines stay as they are. */
function commentedOut(lines: readonly string[]): string[] {
  return lines.map((l) => {
    const at = l.length - l.trimStart().length;
    const rest = l.slice(at);
    return rest.startsWith('#') ? l : `${l.slice(0, at)}# ${rest}`;
  });
}

// A string YAML reads back as that string when written bare: no indicator first, no `: ` or ` #`
// inside, and not a word YAML 1.1 or 1.2 reads as something else (true, no, ~, 10, 0x1f, .inf).
const PLAIN = /^[A-Za-z0-9_/^$(.][^\s#,[\]{}'"]*$/;
const NOT_PLAIN = /^(?:true|false|yes|no|on|off|y|n|null|~|[-+]?(?:\d[\d_]*(?:\.\d*)?(?:e[-+]?\d+)?|\.\d+(?:e[-+]?\d+)?|0x[\da-f_]+|0o[0-7_]+|0b[01_]+|\.inf|\.nan|\d[\d_]*(?::[0-5]?\d)+(?:\.\d*)?)|\d{4}-\d\d?-\d\d?.*|.*:)$/i;

/**
 * A default value in flow style on one line. Strings that could read as anything else are in
 * double quotes, JSON's escapes being YAML's. sonde's own emitter: js-yaml's dumper would be
 * ~20 KB more for every command to load.
 */
function yamlValue(v: unknown): string {
  if (typeof v === 'string') return PLAIN.test(v) && !NOT_PLAIN.test(v) ? v : JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return `[${v.map(yamlValue).join(', ')}]`;
  const entries = Object.entries(v as Record<string, unknown>);
  return entries.length === 0 ? '{}' : `{ ${entries.map(([k, x]) => `${yamlValue(k)}: ${yamlValue(x)}`).join(', ')} }`;
}

/** The value of `schema` for `value` written as YAML and read as sonde reads its config; undefined when refused. */
function readBack(schema: z.ZodType, value: unknown): { data: unknown } | undefined {
  // ${NAME} would be substituted when the config is read: such a default is shown commented.
  if (JSON.stringify(value).includes('${')) return undefined;
  let read: unknown;
  try {
    read = (parseYaml(`v: ${yamlValue(value)}\n`, 'sonde config').value as { v: unknown }).v;
  } catch {
    return undefined;
  }
  const r = schema.safeParse(read);
  return r.success ? { data: r.data } : undefined;
}

/** True when writing `value` for the key gives what leaving the key out gives. */
function sameAsDefault(schema: z.ZodType, value: unknown): boolean {
  const written = readBack(schema, value);
  const omitted = schema.safeParse(undefined);
  return written !== undefined && omitted.success && JSON.stringify(written.data) === JSON.stringify(omitted.data);
}

function isRequired(schema: z.ZodType): boolean {
  for (let s = schema, i = 0; i < 20; i++) {
    const d = defOf(s);
    if (d.type === 'optional' || d.type === 'default' || d.type === 'prefault') return false;
    if (d.type === 'nullable' && d.innerType) s = d.innerType;
    else return true;
  }
  return true;
}

/** The keys of `shape` that must be written (no default, not optional). */
function requiredKeys(shape: Shape): string[] {
  return Object.entries(shape)
    .filter(([, s]) => isRequired(s))
    .map(([k]) => k);
}

function objectShape(schema: z.ZodType | undefined): Shape | undefined {
  if (!schema) return undefined;
  const d = defOf(unwrap(schema));
  return d.type === 'object' && d.shape && Object.keys(d.shape).length > 0 ? d.shape : undefined;
}

interface KeyOptions {
  /** Rows in place of the schema's own (a handler's outbox defaults fill the shared keys' blanks). */
  readonly docs?: ReadonlyMap<string, OptionDoc>;
  /** Values to write in place of the defaults (plugin_paths of the --config that was read). */
  readonly values?: Readonly<Record<string, unknown>>;
  /** Keys left out. */
  readonly skip?: ReadonlySet<string>;
}

/** Writes the keys of a mapping, each with its help above it; a key with no default is written commented. */
function keys(w: Writer, shape: Shape, indent: string, opts: KeyOptions = {}): void {
  const docs = opts.docs ?? new Map(optionDocs(shape).map((d) => [d.key, d]));
  for (const [key, schema] of Object.entries(shape)) {
    if (opts.skip?.has(key)) continue;
    const doc = docs.get(key);
    const required = isRequired(schema);
    comment(w, indent, `${doc?.help ?? ''} (${doc?.type ?? 'value'}${required ? ', required' : ''})`);
    const inner = defOf(unwrap(schema));
    const given = opts.values !== undefined && Object.hasOwn(opts.values, key);
    const def = given ? opts.values![key] : defaultOf(schema);
    const nested = inner.type === 'object' ? objectShape(schema) : undefined;
    if (nested) {
      // A mapping with a default is written out; an optional one is shown commented (writing it
      // would switch it on: tls, basic_auth).
      const sub: Writer = { lines: [] };
      keys(sub, nested, `${indent}  `);
      // With none of its keys written, `key:` alone would read as null: write it as {}.
      const anySet = sub.lines.some((l) => !l.trimStart().startsWith('#'));
      const block = [`${indent}${yamlValue(key)}:${anySet || def === undefined ? '' : ' {}'}`, ...sub.lines];
      w.lines.push(...(def !== undefined ? block : commentedOut(block)));
      continue;
    }
    const k = yamlValue(key);
    const usable = def !== undefined && (given ? readBack(schema, def) !== undefined : sameAsDefault(schema, def));
    if (usable) w.lines.push(`${indent}${k}: ${yamlValue(def)}`);
    else if (doc?.default) w.lines.push(`${indent}# ${k}: ${doc.default}`);
    else w.lines.push(`${indent}# ${k}:`);
    // Entries of a list, or of a mapping of named entries: their keys, as a commented example.
    const item = inner.type === 'array' ? (inner as { element?: z.ZodType }).element : inner.type === 'record' ? (inner as { valueType?: z.ZodType }).valueType : undefined;
    const itemShape = objectShape(item);
    if (itemShape) {
      const sub: Writer = { lines: [] };
      keys(sub, itemShape, `${indent}    `);
      const head = inner.type === 'array' ? `${indent}  - ` : `${indent}  NAME:`;
      comment(w, indent, inner.type === 'array' ? `Each entry of ${key} (written in place of []) takes:` : `Each entry of ${key} (written in place of {}), under a name of your choice, takes:`);
      w.lines.push(...commentedOut([head.trimEnd(), ...sub.lines]));
    }
  }
}

/** Does this collector do nothing until a list in it is filled in (logs' files, mysql's instances)? */
function waitsForEntries(shape: Shape): boolean {
  return Object.values(shape).some((s) => {
    const d = defaultOf(s);
    const t = defOf(unwrap(s)).type;
    return (t === 'array' && Array.isArray(d) && d.length === 0) || (t === 'record' && d !== null && typeof d === 'object' && Object.keys(d).length === 0);
  });
}

function section(w: Writer, registry: Registry, plugin: AnyCollector | AnyHandler, enabled: boolean): void {
  const shape = plugin.schema.shape as Shape;
  const src = registry.sources.get(plugin as never);
  const required = requiredKeys(shape);
  w.lines.push('');
  comment(w, '  ', `${plugin.kind} ${plugin.name}${src && src !== 'built-in' ? ` (${src})` : ''}: ${plugin.description}`);
  const common: Shape = plugin.kind === 'collector' ? collectorCommonShape : handlerCommonShape;
  const body: Writer = { lines: [`  ${plugin.name}:`] };
  const enabledDoc = optionDocs({ enabled: common.enabled! })[0]!;
  comment(body, '    ', `${enabledDoc.help} (${enabledDoc.type}, default ${enabledDoc.default})`);
  body.lines.push(`    enabled: ${enabled}`);
  keys(body, shape, '    ');
  comment(body, '    ', `Keys every ${plugin.kind} section accepts:`);
  // `type` names the plugin of a section named otherwise; this one is named after its plugin.
  keys(body, common, '    ', { docs: new Map(sharedOptionDocs(plugin).map((d) => [d.key, d])), skip: new Set(['enabled', 'type']) });
  // A section that cannot be valid without a value only the operator knows is left commented.
  if (required.length > 0) {
    comment(w, '  ', `Set ${required.join(', ')} and remove the "# " before the keys below to use it.`);
    w.lines.push(...commentedOut(body.lines));
    return;
  }
  // So is one its own schema refuses as written (a plugin whose defaults do not validate alone).
  const refused = sectionProblem(plugin, body.lines);
  if (refused !== undefined) {
    comment(w, '  ', `As written, check-config would refuse it (${refused}): set its options, then remove the "# " before the keys below.`);
    w.lines.push(...commentedOut(body.lines));
    return;
  }
  w.lines.push(...body.lines);
}

/** Why the section's schema refuses the section as written, or undefined when it accepts it. */
function sectionProblem(plugin: AnyCollector | AnyHandler, lines: readonly string[]): string | undefined {
  let value: unknown;
  try {
    value = (parseYaml(`${lines.join('\n')}\n`, 'sonde config').value as Record<string, unknown>)[plugin.name];
  } catch (err) {
    return (err as Error).message;
  }
  const schema = plugin.kind === 'collector' ? collectorSchema(plugin) : handlerSchema(plugin);
  const r = schema.safeParse(value, { reportInput: true });
  if (r.success) return undefined;
  // Worded as check-config words it.
  const raw: RawConfig = { value: {}, files: [], originOf: () => ({ file: '', line: undefined }) };
  const p = issueProblems(r.error.issues[0]!, [], schema, raw)[0];
  return p === undefined ? r.error.issues[0]!.message : `${formatPath(p.path)}: ${p.message}`;
}

export interface ConfigRequest {
  /** Plugin names (and `global`); empty for everything. */
  readonly sections: readonly string[];
  /** Values for global keys in place of their defaults (plugin_paths of the --config that was read). */
  readonly global?: Readonly<Record<string, unknown>>;
}

/** The commented YAML of `sonde config`; throws UnknownSectionError for a SECTION that names nothing. */
export function sampleConfig(registry: Registry, req: ConfigRequest): string {
  const all = req.sections.length === 0;
  const collectors: AnyCollector[] = [];
  const handlers: AnyHandler[] = [];
  let global = all;
  for (const name of req.sections) {
    if (name === 'global') {
      global = true;
      continue;
    }
    const c = registry.collectors.get(name);
    const h = registry.handlers.get(name);
    if (c && !collectors.includes(c)) collectors.push(c);
    if (h && !handlers.includes(h)) handlers.push(h);
    if (!c && !h) {
      const names = ['global', ...registry.collectors.keys(), ...registry.handlers.keys()];
      const hint = suggestion(name, names, diamondPlugin(name)?.kind);
      const parser = registry.parsers.has(name) ? `; ${name} is a parser: its options go in a logs collector entry (sonde config logs, sonde list ${name})` : '';
      throw new UnknownSectionError(`no collector or handler named "${name}"${hint ? ` (${hint})` : ''}${parser}; SECTION is one of: ${names.join(', ')}`);
    }
  }
  if (all) {
    collectors.push(...registry.collectors.values());
    handlers.push(...registry.handlers.values());
  }
  const w: Writer = { lines: [] };
  comment(w, '', `sonde configuration, written by "sonde config${req.sections.length ? ` ${req.sections.join(' ')}` : ''}" (sonde ${VERSION}) from the plugins' own schemas: every key, its default and what it does.`);
  comment(w, '', 'A key written out has its default value; a commented one ("# key:") is unset, and shows the default that applies, if any. Check a change with "sonde check-config --config FILE"; conf.d/*.yaml beside the file is merged over it in name order.');
  comment(w, '', 'Durations: 500ms, 10s, 5m, 1h, 1d (a bare number is seconds). Sizes: 512KiB, 64MiB, 1GiB. ${ENV_VAR} and ${ENV_VAR:-default} are substituted; <option>_file: /path reads an option from a file (for secrets).');
  if (global) {
    w.lines.push('');
    keys(w, globalSchema.shape as Shape, '', { values: req.global, skip: new Set(['collectors', 'handlers']) });
  }
  if (collectors.length > 0) {
    w.lines.push('');
    comment(w, '', `One section per collector.${all ? ' Sections that collect nothing until a list in them is filled in are written with enabled: false.' : ''}`);
    w.lines.push('collectors:');
    for (const c of collectors) section(w, registry, c, !all || !waitsForEntries(c.schema.shape as Shape));
  }
  if (handlers.length > 0) {
    w.lines.push('');
    comment(w, '', `One section per handler.${all ? ' Handlers that send somewhere only you know are written with enabled: false; one that needs nothing (stdout: Graphite lines on standard output) is enabled, so that the file works without a server. Enable the handler for your metrics server, and disable stdout under systemd (its lines would fill the journal).' : ''}`);
    w.lines.push('handlers:');
    // Handlers with options of their own send somewhere that only the operator knows.
    for (const h of handlers) section(w, registry, h, !all || Object.keys(h.schema.shape as Shape).length === 0);
  }
  return `${w.lines.join('\n')}\n`;
}
