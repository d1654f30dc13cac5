// Which plugin a collector or handler section runs: its `type`, or else its name. A name that is
// not a plugin is an error with the closest name; a plugin that failed to load is a warning.
import type { ConfigProblem, RawConfig } from './read-files.js';
import type { KeyPath } from './yaml-source.js';
import type { Registry } from '../plugins/registry.js';
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
): T | undefined {
  const type = typeof section.type === 'string' ? section.type : key;
  const plugin = plugins.get(type);
  if (plugin) return plugin;
  const failed = registry.failedToLoad(type);
  if (failed) {
    warnings.push(`${raw.originOf(p).file}: ${kind} "${type}" is configured but its plugin ${failed.file} ${failed.reason}; the rest of the agent runs without it`);
    return undefined;
  }
  const where: KeyPath = typeof section.type === 'string' ? [...p, 'type'] : p;
  problems.push({ origin: raw.originOf(where), path: where, message: unknownPluginMessage(kind, type, [...plugins.keys()]) });
  return undefined;
}
