// Loads outside plugins (.js / .mjs files) from the plugin_paths directories.
import { markFromFile } from '../logging/plugin-scope.js';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { bytes, closest, defineCollector, defineHandler, defineParser, duration, formatValue, mean, percentile, plaintextLine, procfs, statsdName, pyFloat, regex, RejectedSamplesError, PartialSendError, MemcachedClient, MemcachedError, persistQueue, SOURCES, sortNumbers, z, type PluginApi, type PluginDefinition } from '../plugin-api.js';
import type { Registry } from './registry.js';
import { VERSION } from '../model/version.js';
import { importModule } from './esm-import.js';

export const pluginApi: PluginApi = Object.freeze({ z, duration, bytes, regex, formatValue, plaintextLine, statsdName, pyFloat, mean, percentile, sortNumbers, closest, procfs, SOURCES, defineCollector, defineHandler, defineParser, RejectedSamplesError, PartialSendError, MemcachedClient, MemcachedError, persistQueue, version: VERSION });

export interface LoadReport {
  readonly loaded: { file: string; kind: string; name: string }[];
  /** Directories that do not exist; only worth a warning when the user configured them. */
  readonly missingDirs: string[];
}

/** Lists the plugin files in a directory, in name order. */
function pluginFiles(dir: string): string[] | undefined {
  try {
    if (!statSync(dir).isDirectory()) return undefined;
    return readdirSync(dir)
      .filter((n) => (n.endsWith('.js') || n.endsWith('.mjs')) && !n.startsWith('.'))
      .sort()
      .map((n) => path.join(dir, n));
  } catch {
    return undefined;
  }
}

/**
 * Imports one plugin file. Its default export is a plugin object, a list of them, or a function
 * that receives the plugin API and returns either. Named exports are ignored.
 */
export async function importPluginFile(file: string): Promise<PluginDefinition[]> {
  // The mtime in the URL makes a SIGHUP reload pick up an edited plugin instead of the cached module.
  const url = `${pathToFileURL(file).href}?mtime=${Math.floor(statSync(file).mtimeMs)}`;
  const mod = (await importModule(url)) as { default?: unknown };
  let exported = mod.default;
  if (exported === undefined) throw new Error('it has no default export; export default (api) => api.defineCollector({...})');
  if (typeof exported === 'function') exported = await (exported as (api: PluginApi) => unknown)(pluginApi);
  const defs = (Array.isArray(exported) ? exported : [exported]) as PluginDefinition[];
  // Their code runs in a scope of its own, so a stray error can be put down to them.
  for (const d of defs) if (typeof d === 'object' && d !== null) markFromFile(d);
  return defs;
}

/** Loads every plugin in the directories; failures go to registry.failures and never throw. */
export async function loadPluginDirs(dirs: readonly string[], registry: Registry): Promise<LoadReport> {
  const report: LoadReport = { loaded: [], missingDirs: [] };
  for (const dir of dirs) {
    const files = pluginFiles(dir);
    if (files === undefined) {
      report.missingDirs.push(dir);
      continue;
    }
    for (const file of files) {
      let defs: PluginDefinition[];
      try {
        defs = await importPluginFile(file);
      } catch (err) {
        registry.failures.push({ file, reason: `failed to load: ${(err as Error).message}` });
        continue;
      }
      for (const def of defs) {
        const problem = registry.add(def, file);
        if (problem) registry.failures.push({ file, reason: problem });
        else report.loaded.push({ file, kind: def.kind, name: def.name });
      }
    }
  }
  return report;
}
