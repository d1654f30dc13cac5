// Loading a usable config: read and merge the files, load the plugins they point at, validate.
import { loadRawConfig } from './read-files.js';
import type { AgentConfig } from './types.js';
import { validateConfig } from './validate.js';
import type { LoadReport } from '../plugins/loader.js';
import { buildRegistry, type PluginFile } from '../plugins/builtin.js';
import type { Registry } from '../plugins/registry.js';

import { DEFAULT_PLUGIN_PATHS } from './defaults.js';

export { DEFAULT_CONFIG_PATH, DEFAULT_PLUGIN_PATHS } from './defaults.js';

export interface LoadedConfig {
  readonly config: AgentConfig;
  readonly registry: Registry;
  readonly plugins: LoadReport;
  /** True when plugin_paths was written in the config (a missing directory is then worth a warning). */
  readonly pluginPathsConfigured: boolean;
}

/**
 * Throws ConfigError (exit 78) or YamlSyntaxError; plugin load failures are in registry.failures.
 * `extra`: a plugin file named on the command line, whose section the config may have.
 */
export async function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env, extra?: PluginFile): Promise<LoadedConfig> {
  const raw = loadRawConfig(file, env);
  const pp = raw.value.plugin_paths;
  const configured = Array.isArray(pp) && pp.every((p) => typeof p === 'string');
  // A malformed plugin_paths is reported by validation; load no outside plugins meanwhile.
  const { registry, report } = await buildRegistry(configured ? (pp as string[]) : pp === undefined ? DEFAULT_PLUGIN_PATHS : [], extra);
  const config = validateConfig(raw, registry, report.missingDirs);
  return { config, registry, plugins: report, pluginPathsConfigured: configured };
}
