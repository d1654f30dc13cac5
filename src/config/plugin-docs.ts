// Describes plugins and their options from their own schemas: for `sonde list` and the README.
import type { z } from 'zod';
import { collectorCommonShape, globalSchema, handlerCommonShape } from './global-schema.js';
import { failureText, type Registry } from '../plugins/registry.js';
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
  section('collectors', [...registry.collectors.values()], src);
  section('handlers', [...registry.handlers.values()], src);
  section('parsers', registry.parserList().map((p) => ({ ...p, name: p.aliases.length ? `${p.name} (${p.aliases.join(', ')})` : p.name })), src);
  if (registry.failures.length > 0) {
    lines.push('not loaded:');
    for (const f of registry.failures) lines.push(`  ${failureText(f)}`);
    lines.push('');
  }
  return lines.join('\n');
}

