// What loading a config found that does not stop sonde: plugins that failed or loaded, and the
// validator's warnings (plugin directories that gave nothing among them).
import type { LoadedConfig } from '../config/load-config.js';
import type { Logger } from '../logging/logger.js';
import { failureText } from '../plugins/registry.js';

/** Logs what loading found that does not stop the agent. */
export function reportLoad(loaded: LoadedConfig, log: Logger): void {
  for (const f of loaded.registry.failures) log.error({ file: f.file }, `plugin not loaded: ${failureText(f)}`);
  for (const p of loaded.plugins.loaded) log.info({ file: p.file }, `loaded ${p.kind} plugin "${p.name}" from ${p.file}`);
  // Plugin directories that gave nothing are among the validator's warnings (with their file:line).
  for (const w of loaded.config.warnings) log.warn(w);
}
