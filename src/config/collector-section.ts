// Builds a collector's section, the one shape the runtime runs a collector from: the core's keys
// (enabled, interval, timeout, path) taken out, the plugin's own options left. The validator, a
// `sonde collect` preview and the tests all build sections here.
import { z } from 'zod';
import type { Duration } from '../model/duration.js';
import type { AnyCollector } from '../plugins/registry.js';
import { collectorCommonShape } from './global-schema.js';
import type { CollectorSection } from './types.js';

/** A collector section's schema: the plugin's options and the core's keys, nothing else. */
export function collectorSchema(plugin: AnyCollector): z.ZodObject {
  return z.strictObject({ ...plugin.schema.shape, ...collectorCommonShape });
}

export interface CoreKeys {
  readonly enabled: boolean;
  readonly interval: Duration | undefined;
  readonly timeout: Duration | undefined;
  readonly path: string | undefined;
  readonly maxNames: number | undefined;
}

/** Separates a parsed section into the core's keys and the plugin's own options. */
export function splitSection(parsed: Record<string, unknown>): { core: CoreKeys; own: Record<string, unknown> } {
  const { enabled, type: _type, interval, timeout, path, max_names: maxNames, ...own } = parsed as {
    enabled: boolean;
    type?: string;
    interval?: number;
    timeout?: number;
    path?: string;
    max_names?: number;
  } & Record<string, unknown>;
  return { core: { enabled, interval, timeout, path, maxNames }, own };
}

export interface SectionSettings {
  readonly key: string;
  readonly interval: Duration;
  /** Defaults to the interval. */
  readonly timeout?: Duration;
  readonly path?: string;
  readonly enabled?: boolean;
  /** The section's max_names, else the global max_names_per_collector; undefined: the runner's default. */
  readonly maxNames?: number;
  /** Changes when the section changes (SIGHUP restarts only changed collectors); '' for previews. */
  readonly fingerprint?: string;
}

export function collectorSection(plugin: AnyCollector, own: Record<string, unknown>, s: SectionSettings): CollectorSection {
  return {
    key: s.key,
    plugin,
    enabled: s.enabled ?? true,
    interval: s.interval,
    timeout: s.timeout ?? s.interval,
    path: s.path ?? plugin.path ?? plugin.name,
    config: own,
    maxNames: s.maxNames,
    fingerprint: s.fingerprint ?? '',
  };
}

/**
 * A section outside any config file (`sonde collect`, tests): `options` validated against the
 * plugin's schema, defaults applied. Throws the schema's error for options it refuses.
 */
export function standaloneSection(plugin: AnyCollector, options: Record<string, unknown>, s: Partial<SectionSettings> & { interval: Duration }): CollectorSection {
  const { core, own } = splitSection(collectorSchema(plugin).parse(options) as Record<string, unknown>);
  return collectorSection(plugin, own, { key: plugin.name, ...s, timeout: s.timeout ?? core.timeout, path: s.path ?? core.path, maxNames: s.maxNames ?? core.maxNames });
}
