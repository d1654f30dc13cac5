// What loading a config found that does not stop sonde: plugins that failed or loaded, plugin
// directories the operator named that are missing, and the validator's warnings.
import { DEFAULT_PLUGIN_PATHS } from '../config/defaults.js';
import type { LoadedConfig } from '../config/load-config.js';
import type { Logger } from '../logging/logger.js';
import { failureText } from '../plugins/registry.js';

/** Logs what loading found that does not stop the agent. */
export function reportLoad(loaded: LoadedConfig, log: Logger): void {
  for (const f of loaded.registry.failures) log.error({ file: f.file }, `plugin not loaded: ${failureText(f)}`);
  for (const p of loaded.plugins.loaded) log.info({ file: p.file }, `loaded ${p.kind} plugin "${p.name}" from ${p.file}`);
  if (loaded.pluginPathsConfigured) {
    // The default directory may well not exist; only a directory the operator named is worth a warning.
    for (const d of loaded.plugins.missingDirs) if (!DEFAULT_PLUGIN_PATHS.includes(d)) log.warn(`plugin directory ${d} (plugin_paths) does not exist or is not readable; no plugins loaded from it`);
  }
  for (const w of loaded.config.warnings) log.warn(w);
}
