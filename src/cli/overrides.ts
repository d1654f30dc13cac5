// What `sonde run` and `sonde once` take from their command line over the config: `--only NAME,...`
// (run only those collectors, as Telegraf's --input-filter) and `--state-dir DIR` (a source
// checkout keeps its state in the checkout). Applied to every load, SIGHUP reloads included.
import type { LoadedConfig } from '../config/load-config.js';
import type { CollectorSection } from '../config/types.js';

export interface CommandLineOverrides {
  /** Collector section names (or plugin names) from --only; undefined runs every enabled one. */
  readonly only: readonly string[] | undefined;
  /** --state-dir, over the config's state_dir. */
  readonly stateDir: string | undefined;
}

/** A name --only cannot use; the message is the whole sentence for the operator. */
export class OnlyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OnlyError';
  }
}

/** `--only cpu,memory --only loadavg` -> [cpu, memory, loadavg]; undefined when not given. */
export function parseOnly(values: readonly (string | number)[] | string | undefined): string[] | undefined {
  if (values === undefined) return undefined;
  const list = (Array.isArray(values) ? values : [values]).flatMap((v) => String(v).split(','));
  return [...new Set(list.map((s) => s.trim()).filter((s) => s !== ''))];
}

function matches(c: CollectorSection, name: string): boolean {
  return c.key === name || c.plugin.name === name;
}

/**
 * The config with the overrides applied. Throws OnlyError when --only names a collector the config
 * has no section for, or one whose section is disabled.
 */
export function applyOverrides(loaded: LoadedConfig, o: CommandLineOverrides): LoadedConfig {
  let config = loaded.config;
  if (o.stateDir !== undefined) config = { ...config, state_dir: o.stateDir };
  if (o.only !== undefined) {
    const files = config.files.join(', ');
    if (o.only.length === 0) throw new OnlyError('--only names no collector: give one or more section names, separated by commas (--only cpu,memory)');
    const sections = config.collectors;
    const enabled = sections.filter((c) => c.enabled).map((c) => c.key);
    const unknown = o.only.filter((n) => !sections.some((c) => matches(c, n)));
    if (unknown.length > 0) {
      throw new OnlyError(
        `--only names ${unknown.length === 1 ? 'a collector' : 'collectors'} the config has no section for: ${unknown.join(', ')}. Configured in ${files}: ${enabled.join(', ') || 'none'} (enabled)${sections.length > enabled.length ? `; ${sections.filter((c) => !c.enabled).map((c) => c.key).join(', ')} (disabled)` : ''}`,
      );
    }
    const disabled = o.only.filter((n) => !sections.some((c) => matches(c, n) && c.enabled));
    if (disabled.length > 0) {
      throw new OnlyError(`--only names ${disabled.join(', ')}, disabled in ${files} (enabled: false). Enable ${disabled.length === 1 ? 'it' : 'them'} there, or try one with "sonde collect ${disabled[0]}"`);
    }
    config = { ...config, collectors: sections.filter((c) => c.enabled && o.only!.some((n) => matches(c, n))) };
  }
  return config === loaded.config ? loaded : { ...loaded, config };
}
