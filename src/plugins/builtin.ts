// Builds the registry: built-in plugins first, then the files in plugin_paths.
import { builtinCollectors } from '../../collectors/index.js';
import { builtinHandlers } from '../../handlers/index.js';
import { builtinParsers } from '../../parsers/index.js';
import path from 'node:path';
import type { PluginDefinition } from '../plugin-api.js';
import { loadPluginDirs, realFileOf, type LoadReport } from './loader.js';
import { Registry } from './registry.js';

export function builtinRegistry(): Registry {
  const registry = new Registry();
  const all: PluginDefinition[] = [
    ...(builtinCollectors as PluginDefinition[]),
    ...(builtinHandlers as PluginDefinition[]),
    ...builtinParsers,
  ];
  for (const def of all) {
    const problem = registry.add(def, 'built-in');
    if (problem) throw new Error(`built-in plugin ${def.name}: ${problem}`);
  }
  return registry;
}

/** Plugins already imported from a file named on the command line (`sonde collect ./x.mjs`). */
export interface PluginFile {
  readonly file: string;
  readonly defs: readonly PluginDefinition[];
}

/**
 * The built-ins, then `extra` (a file named on the command line, which wins over a copy of itself
 * in plugin_paths), then the files in plugin_paths.
 */
export async function buildRegistry(pluginPaths: readonly string[], extra?: PluginFile): Promise<{ registry: Registry; report: LoadReport }> {
  const registry = builtinRegistry();
  const skip = new Set<string>();
  if (extra) {
    skip.add(realFileOf(path.resolve(extra.file)));
    for (const def of extra.defs) {
      const problem = registry.add(def, extra.file);
      if (problem) registry.failures.push({ file: extra.file, reason: problem, names: typeof def?.name === 'string' ? [def.name] : [] });
    }
  }
  const report = await loadPluginDirs(pluginPaths, registry, skip);
  return { registry, report };
}
