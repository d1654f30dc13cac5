// Builds the registry: built-in plugins first, then the files in plugin_paths.
import { builtinCollectors } from '../../collectors/index.js';
import { builtinHandlers } from '../../handlers/index.js';
import { builtinParsers } from '../../parsers/index.js';
import type { PluginDefinition } from '../plugin-api.js';
import { loadPluginDirs, type LoadReport } from './loader.js';
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

export async function buildRegistry(pluginPaths: readonly string[]): Promise<{ registry: Registry; report: LoadReport }> {
  const registry = builtinRegistry();
  const report = await loadPluginDirs(pluginPaths, registry);
  return { registry, report };
}
