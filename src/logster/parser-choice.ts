// The parser a `sonde logster` run uses: a built-in chosen by its name or Logster's dotted Python
// name, or a .js parser plugin file; its options from --parser-options; its --parser-help text.
// Registry, loader and docs are imported only when needed: cron starts this every few minutes.
import path from 'node:path';
import { LogsterUsageError, splitParserOptions } from './args.js';
import type { ParserDefinition, z } from '../plugin-api.js';
import { suggestion } from '../config/suggest.js';
import { coerceText } from '../schema/coerce.js';

export interface ResolvedParser {
  def: ParserDefinition;
  /** The dotted Python name Logster would use in the state file name. */
  dotted: string;
}

/** The parser plugins of `--config`'s plugin_paths, loaded only when a name is no built-in. */
export interface ConfigParsers {
  /** By name and alias; no built-ins. */
  readonly parsers: ReadonlyMap<string, ParserDefinition>;
  failedParser(name: string): string | undefined;
}

/**
 * A built-in by name or Logster's dotted name, a parser plugin file (`./app.mjs`), or, with
 * `--config`, a parser plugin of its plugin_paths by name (`fromConfig` loads them).
 */
export async function resolveParser(name: string, fromConfig?: () => Promise<ConfigParsers>): Promise<ResolvedParser> {
  if (/\.m?js$/.test(name)) {
    const [{ importPluginFile }, { pluginShapeProblem }] = await Promise.all([import('../plugins/loader.js'), import('../plugins/registry.js')]);
    const file = path.resolve(name);
    let defs;
    try {
      defs = await importPluginFile(file);
    } catch (err) {
      const where = (err as { where?: string }).where ?? name;
      throw new LogsterUsageError(`cannot load the parser plugin ${where}: ${(err as Error).message}`);
    }
    const def = defs.find((d): d is ParserDefinition => typeof d === 'object' && d !== null && d.kind === 'parser');
    if (!def) throw new LogsterUsageError(`${name} defines no parser (write export default (api) => api.defineParser({...}))`);
    const problem = pluginShapeProblem(def, true);
    if (problem) throw new LogsterUsageError(`cannot use the parser plugin ${name}: ${problem}`);
    return { def, dotted: def.name };
  }
  const registry = (await import('../plugins/builtin-parsers.js')).builtinParserRegistry();
  let key = name;
  if (name.includes('.')) {
    // logster.parsers.PostfixLogster.PostfixLogster is the built-in PostfixLogster.
    const m = /^logster\.parsers\.(\w+)\.(\w+)$/.exec(name);
    if (!m || m[1] !== m[2] || !registry.parsers.has(m[1]!)) {
      throw new LogsterUsageError(
        `${name} is a Python module; sonde cannot load Python parsers. Use a built-in (${registry.parserList().flatMap((p) => p.aliases).join(', ')}) or port it to a .js parser plugin (docs/plugins.md).`,
      );
    }
    key = m[1]!;
  }
  const def = registry.parsers.get(key);
  if (def) {
    const alias = def.aliases[0];
    return { def, dotted: alias ? `logster.parsers.${alias}.${alias}` : def.name };
  }
  const builtins = `built-in parsers: ${registry.parserList().map((p) => [p.name, ...p.aliases].join('/')).join(', ')}`;
  const builtinNames = registry.parserList().flatMap((p) => [p.name, ...p.aliases]);
  if (!fromConfig) {
    const hint = suggestion(name, builtinNames);
    throw new LogsterUsageError(`unknown parser ${name}${hint ? ` (${hint})` : ''}; ${builtins}. For a parser plugin, give its file (./${name}.mjs), or --config FILE to find it in that config's plugin_paths`);
  }
  const config = await fromConfig();
  const plugin = config.parsers.get(name);
  if (plugin) return { def: plugin, dotted: plugin.name };
  const failed = config.failedParser(name);
  if (failed) throw new LogsterUsageError(`parser ${name}: ${failed}. Fix that file (or name another parser)`);
  const plugins = [...new Set(config.parsers.values())].map((p) => p.name);
  const hint = suggestion(name, [...builtinNames, ...plugins]);
  throw new LogsterUsageError(`unknown parser ${name}${hint ? ` (${hint})` : ''}; ${builtins}; parser plugins in the plugin_paths of the --config file: ${plugins.join(', ') || 'none'}`);
}

/** Turns `--parser-options "-l WARN,ERROR"` into the parser's options, as its optparse would. */
export function parserOptions(def: ParserDefinition, text: string | undefined): Record<string, unknown> {
  const words = splitParserOptions(text);
  const out: Record<string, unknown> = {};
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w === '') continue;
    const [flag, inline] = w.startsWith('--') && w.includes('=') ? [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)] : [w, undefined];
    const f = def.flags?.find((x) => x.long === flag || x.short === flag || (x.short !== undefined && flag.startsWith(x.short) && flag.length > 2 && !flag.startsWith('--')));
    if (!f) {
      const known = def.flags?.map((x) => [x.short, x.long].filter(Boolean).join('/')).join(', ');
      throw new LogsterUsageError(`parser ${def.name}: no such option ${flag} in --parser-options${known ? ` (it takes ${known})` : ' (it takes none)'}`);
    }
    let v = inline;
    if (v === undefined && f.short !== undefined && flag !== f.short && flag !== f.long) v = flag.slice(f.short.length);
    if (v === undefined) {
      v = words[++i];
      if (v === undefined) throw new LogsterUsageError(`parser ${def.name}: ${flag} option requires an argument`);
    }
    // Typed as the parser's schema expects (`-s 100` for a number), as a config file would type it.
    const schema = (def.schema.shape as Record<string, z.ZodType>)[f.key];
    out[f.key] = schema ? coerceText(schema, v) : v;
  }
  return out;
}

/** The text `--parser-help` prints: what the parser does and the options it takes. */
export async function parserHelp(def: ParserDefinition): Promise<string> {
  let s = `${def.name} (${def.aliases.join(', ') || 'no Logster name'}): ${def.description}\n`;
  if (!def.flags?.length) return `${s}It takes no --parser-options.\n`;
  // The same option descriptions `sonde list` and the README show, from the parser's schema.
  const { optionDocs } = await import('../schema/option-docs.js');
  const docs = new Map(optionDocs((def.schema as unknown as { shape: Record<string, z.ZodType> }).shape).map((d) => [d.key, d]));
  s += 'Options (pass them with --parser-options "..."):\n';
  for (const f of def.flags) {
    const d = docs.get(f.key);
    s += `  ${[f.short, f.long].filter(Boolean).join(', ')} VALUE  ${d?.help ?? ''}${d?.default ? ` (default ${d.default})` : ''}\n`;
  }
  return s;
}
