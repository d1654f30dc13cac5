// Describes plugins and their options from their own schemas: for `sonde list` and the README.
import type { z } from 'zod';
import { collectorCommonShape, globalSchema, handlerCommonShape } from './global-schema.js';
import { failureText, type AnyHandler, type AnyParser, type Registry } from '../plugins/registry.js';
import { DEFAULT_BATCH_SIZE, DEFAULT_FLUSH } from './handler-section.js';
import { optionDocs, type OptionDoc } from '../schema/option-docs.js';

function table(rows: OptionDoc[]): string {
  // `<` and `>` become entities outside code spans only: inside one, an entity shows literally.
  const esc = (s: string) =>
    s
      .replaceAll('|', '\\|')
      .split('`')
      .map((part, i) => (i % 2 === 1 ? part : part.replaceAll('<', '&lt;').replaceAll('>', '&gt;')))
      .join('`');
  return ['| option | type | default | meaning |', '|---|---|---|---|', ...rows.map((r) => `| \`${r.key}\` | ${esc(r.type)} | ${r.default ? `\`${esc(r.default)}\`` : ''} | ${esc(r.help)} |`)].join('\n');
}

/** The README's generated reference: global keys, common keys, then every built-in plugin. */
export function markdownReference(registry: Registry): string {
  const out: string[] = [];
  out.push('### Global keys\n', table(optionDocs(globalSchema.shape as Record<string, z.ZodType>)), '');
  out.push('### Keys every collector section accepts\n', table(optionDocs(collectorCommonShape)), '');
  out.push('### Keys every handler section accepts\n', table(optionDocs(handlerCommonShape)), '');
  for (const c of registry.collectors.values()) {
    out.push(`### Collector \`${c.name}\`\n`, c.description, '');
    const rows = optionDocs(c.schema.shape as Record<string, z.ZodType>);
    out.push(rows.length ? table(rows) : 'No options of its own.', '');
  }
  for (const h of registry.handlers.values()) {
    out.push(`### Handler \`${h.name}\`\n`, h.description, '');
    const rows = optionDocs(h.schema.shape as Record<string, z.ZodType>);
    out.push(rows.length ? table(rows) : 'No options of its own.', '');
  }
  for (const p of registry.parserList()) {
    out.push(`### Parser \`${p.name}\`${p.aliases.length ? ` (${p.aliases.join(', ')})` : ''}\n`, p.description, '');
    const rows = optionDocs(p.schema.shape as Record<string, z.ZodType>);
    out.push(rows.length ? table(rows) : 'No options of its own.', '');
  }
  return out.join('\n');
}

/** Plain text for `sonde list`. */
export function textList(registry: Registry, withOptions: boolean): string {
  const lines: string[] = [];
  const section = (title: string, items: { name: string; description: string; schema: { shape: unknown } }[], sources: (i: object) => string) => {
    lines.push(`${title}:`);
    if (items.length === 0) lines.push('  (none)');
    const w = Math.max(0, ...items.map((i) => i.name.length));
    for (const i of items) {
      const src = sources(i);
      lines.push(`  ${i.name.padEnd(w)}  ${i.description}${src === 'built-in' ? '' : ` [${src}]`}`);
      if (withOptions) {
        for (const o of optionDocs(i.schema.shape as Record<string, z.ZodType>)) {
          lines.push(`  ${' '.repeat(w)}    ${o.key} (${o.type}${o.default ? `, default ${o.default}` : ''}): ${o.help}`);
        }
      }
    }
    lines.push('');
  };
  const src = (i: object) => registry.sources.get(i as never) ?? 'built-in';
  const shared = (title: string, docs: OptionDoc[]) => {
    if (!withOptions) return;
    lines.push(`${title}:`);
    for (const o of docs) lines.push(`    ${o.key} (${o.type}${o.default ? `, default ${o.default}` : ''}): ${o.help}`);
    lines.push('');
  };
  section('collectors', [...registry.collectors.values()], src);
  shared('keys every collector section accepts', optionDocs(collectorCommonShape));
  section('handlers', [...registry.handlers.values()], src);
  shared('keys every handler section accepts (a handler may have its own defaults: sonde list NAME)', optionDocs(handlerCommonShape));
  section('parsers', registry.parserList().map((p) => ({ ...p, name: p.aliases.length ? `${p.name} (${p.aliases.join(', ')})` : p.name })), src);
  if (registry.failures.length > 0) {
    lines.push('not loaded:');
    for (const f of registry.failures) lines.push(`  ${failureText(f)}`);
    lines.push('');
  }
  return lines.join('\n');
}


type Kind = 'collector' | 'handler' | 'parser';
type AnyPlugin = { readonly kind: Kind; readonly name: string; readonly description: string; readonly schema: { readonly shape: unknown } };

/**
 * The keys every section of a plugin's kind accepts, with the defaults that apply to this plugin:
 * a handler's own outbox defaults (stdout: no spool, 200ms flushes) fill the blanks of the shared ones.
 */
export function sharedOptionDocs(plugin: AnyPlugin): OptionDoc[] {
  if (plugin.kind === 'collector') return optionDocs(collectorCommonShape);
  if (plugin.kind !== 'handler') return [];
  const own = (plugin as Partial<AnyHandler>).outbox;
  const effective: Record<string, string> = {
    batch_size: String(own?.batch_size ?? DEFAULT_BATCH_SIZE),
    flush_interval: own?.flush_interval ?? DEFAULT_FLUSH,
    spool: String(own?.spool ?? true),
  };
  return optionDocs(handlerCommonShape).map((d) => (d.default === '' && effective[d.key] !== undefined ? { ...d, default: effective[d.key]! } : d));
}

/** Every plugin of the registry named `name` (a parser also by its aliases): a collector and a handler may share one. */
export function findPlugins(registry: Registry, name: string): AnyPlugin[] {
  const found: AnyPlugin[] = [];
  const c = registry.collectors.get(name);
  if (c) found.push(c);
  const h = registry.handlers.get(name);
  if (h) found.push(h);
  const p = registry.parsers.get(name);
  if (p) found.push(p);
  return found;
}

/** Every name `sonde list NAME` accepts, for "did you mean" and completion. */
export function pluginNames(registry: Registry): string[] {
  return [...new Set([...registry.collectors.keys(), ...registry.handlers.keys(), ...registry.parsers.keys()])];
}

/** `sonde list NAME`: one plugin, its options and the keys its section shares with every other of its kind. */
export function pluginText(registry: Registry, plugin: AnyPlugin): string {
  const src = registry.sources.get(plugin as never) ?? 'built-in';
  const aliases = plugin.kind === 'parser' ? (plugin as AnyParser).aliases : [];
  const lines = [`${plugin.kind} ${plugin.name}${aliases.length ? ` (Logster: ${aliases.join(', ')})` : ''}${src === 'built-in' ? '' : ` [${src}]`}`, `  ${plugin.description}`, ''];
  const rows = (title: string, docs: OptionDoc[]) => {
    lines.push(`${title}:`);
    if (docs.length === 0) lines.push('  (none)');
    for (const o of docs) lines.push(`  ${o.key} (${o.type}${o.default ? `, default ${o.default}` : ''}): ${o.help}`);
    lines.push('');
  };
  rows('options', optionDocs(plugin.schema.shape as Record<string, z.ZodType>));
  if (plugin.kind === 'collector') rows('keys every collector section accepts', sharedOptionDocs(plugin));
  if (plugin.kind === 'handler') rows('keys every handler section accepts (defaults for this handler)', sharedOptionDocs(plugin));
  if (plugin.kind === 'parser') lines.push(`Use it in a logs collector entry (parser: ${plugin.name}, its options beside it) or with "sonde logster ${aliases[0] ?? plugin.name} LOGFILE".`, '');
  return lines.join('\n');
}

/** One plugin as `sonde list --json` gives it (README, "list --json"). */
export interface PluginJson {
  readonly kind: Kind;
  readonly name: string;
  readonly aliases: readonly string[];
  readonly description: string;
  /** "built-in" or the plugin file. */
  readonly source: string;
  readonly options: readonly OptionDoc[];
  /** The keys every section of its kind accepts, defaults as they apply to it; [] for parsers. */
  readonly shared_options: readonly OptionDoc[];
}

export interface ListJson {
  readonly global_options: readonly OptionDoc[];
  readonly collectors: readonly PluginJson[];
  readonly handlers: readonly PluginJson[];
  readonly parsers: readonly PluginJson[];
  readonly not_loaded: readonly { file: string; reason: string }[];
}

export function pluginJson(registry: Registry, plugin: AnyPlugin): PluginJson {
  return {
    kind: plugin.kind,
    name: plugin.name,
    aliases: plugin.kind === 'parser' ? (plugin as AnyParser).aliases : [],
    description: plugin.description,
    source: registry.sources.get(plugin as never) ?? 'built-in',
    options: optionDocs(plugin.schema.shape as Record<string, z.ZodType>),
    shared_options: sharedOptionDocs(plugin),
  };
}

export function listJson(registry: Registry): ListJson {
  return {
    global_options: optionDocs(globalSchema.shape as Record<string, z.ZodType>),
    collectors: [...registry.collectors.values()].map((p) => pluginJson(registry, p)),
    handlers: [...registry.handlers.values()].map((p) => pluginJson(registry, p)),
    parsers: registry.parserList().map((p) => pluginJson(registry, p)),
    not_loaded: registry.failures.map((f) => ({ file: f.file, reason: f.reason })),
  };
}
