// The section keys that belong to the core, per plugin kind. A plugin whose schema declares one
// of them would never see its value (the core takes it out of the section first), so the loader
// refuses such a plugin. test/plugin-load.test.ts checks these lists against the schemas that
// really take the keys (config/global-schema.ts, the logs collector's file entry).
import type { PluginDefinition } from '../plugin-api.js';

type PluginKind = PluginDefinition['kind'];

export const RESERVED_KEYS: Readonly<Record<PluginKind, readonly string[]>> = {
  /** collectors.<name>: the keys of every collector section. */
  collector: ['enabled', 'type', 'interval', 'timeout', 'path', 'max_names'],
  /** handlers.<name>: the outbox settings of every handler section. */
  handler: ['enabled', 'type', 'batch_size', 'flush_interval', 'queue_size', 'send_timeout', 'retry_min', 'retry_max', 'spool', 'spool_max_bytes', 'spool_max_age'],
  /** An entry of the logs collector's files: the entry's own keys; the others are its parser's options. */
  parser: ['path', 'parser', 'name', 'from_start'],
};

/** The first reserved key a plugin's schema declares, if any. */
export function reservedKeyIn(kind: PluginKind, shape: Record<string, unknown>): string | undefined {
  return RESERVED_KEYS[kind].find((k) => Object.hasOwn(shape, k));
}
