// Which plugin a collector or handler section runs: its `type`, or else its name. A name that is
// not a plugin is an error with the closest name; a plugin that failed to load is a warning for
// the agent (it runs the rest) and an error for check-config.
import { formatProblem, type ConfigProblem, type RawConfig } from './read-files.js';
import type { KeyPath } from './yaml-source.js';
import { failedPluginText, type Registry } from '../plugins/registry.js';
import { unknownPluginMessage } from './issue-wording.js';

export function pickPlugin<T extends { name: string }>(
  kind: 'collector' | 'handler',
  key: string,
  section: Record<string, unknown>,
  plugins: ReadonlyMap<string, T>,
  registry: Registry,
  p: KeyPath,
  raw: RawConfig,
  problems: ConfigProblem[],
  warnings: string[],
  unloaded: string[],
): T | undefined {
  const type = typeof section.type === 'string' ? section.type : key;
  const plugin = plugins.get(type);
  if (plugin) return plugin;
  const failed = registry.failedToLoad(type);
  if (failed) {
    // The agent runs without it (a warning); check-config refuses the config (unloaded).
    const where: KeyPath = typeof section.type === 'string' ? [...p, 'type'] : p;
    const text = formatProblem({
      origin: raw.originOf(where),
      path: where,
      message: `${failedPluginText(kind, failed)}. This ${kind} does not run (the rest of the agent does); fix that file, or remove this section`,
    });
    warnings.push(text);
    unloaded.push(text);
    return undefined;
  }
  const where: KeyPath = typeof section.type === 'string' ? [...p, 'type'] : p;
  problems.push({ origin: raw.originOf(where), path: where, message: unknownPluginMessage(kind, type, [...plugins.keys()]) });
  return undefined;
}
