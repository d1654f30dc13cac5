// Builds a handler's sections, the shape the delivery runs a handler from: the core's outbox keys
// taken out and resolved against the plugin's defaults, the plugin's own options left. A section
// the plugin splits (graphite's replicate and shard modes) becomes one section per part.
import { z } from 'zod';
import { parseDuration } from '../model/duration.js';
import type { AnyHandler } from '../plugins/registry.js';
import { handlerCommonShape } from './global-schema.js';
import type { HandlerSection, OutboxSettings } from './types.js';
import type { KeyPath } from './yaml-source.js';

/** What batch_size and flush_interval are for a handler that sets no defaults of its own. */
export const DEFAULT_BATCH_SIZE = 1000;
export const DEFAULT_FLUSH = '1s';

/** A handler section's schema: the plugin's options and the core's outbox keys, nothing else. */
export function handlerSchema(plugin: AnyHandler): z.ZodObject {
  return z.strictObject({ ...plugin.schema.shape, ...handlerCommonShape });
}

/** The core's keys of a handler section, as its schema outputs them. */
export type HandlerCoreKeys = z.output<z.ZodObject<typeof handlerCommonShape>>;

/** Separates a parsed section into the core's keys and the plugin's own options. */
export function splitHandlerSection(parsed: Record<string, unknown>): { core: HandlerCoreKeys; own: Record<string, unknown> } {
  const { enabled, type, batch_size, flush_interval, queue_size, send_timeout, retry_min, retry_max, spool, spool_max_bytes, spool_max_age, ...own } =
    parsed as HandlerCoreKeys & Record<string, unknown>;
  return { core: { enabled, type, batch_size, flush_interval, queue_size, send_timeout, retry_min, retry_max, spool, spool_max_bytes, spool_max_age }, own };
}

export interface HandlerSettings {
  /** The section's name under `handlers:`. */
  readonly key: string;
  /** Changes when the section changes (SIGHUP restarts only changed handlers). */
  readonly fingerprint: string;
  /** Reports a setting that was corrected rather than refused, at a key path below the section. */
  warn(rel: KeyPath, message: string): void;
}

/** The outbox a section gets: its own settings, else the plugin's defaults, else the core's. */
function outboxSettings(plugin: AnyHandler, core: HandlerCoreKeys, own: Record<string, unknown>, s: HandlerSettings): OutboxSettings {
  const batchSize = core.batch_size ?? plugin.outbox?.batch_size ?? DEFAULT_BATCH_SIZE;
  if (core.queue_size < batchSize) {
    // An outbox must hold at least one batch; say so rather than change the number quietly.
    s.warn(
      ['queue_size'],
      `handlers.${s.key}.queue_size (${core.queue_size}) is smaller than batch_size (${batchSize}); using ${batchSize}. Lower batch_size too if you meant a small queue`,
    );
  }
  return {
    batchSize,
    flushInterval: core.flush_interval ?? parseDuration(plugin.outbox?.flush_interval ?? DEFAULT_FLUSH) ?? 1000,
    queueSize: Math.max(core.queue_size, batchSize),
    sendTimeout: core.send_timeout,
    retryMin: core.retry_min,
    retryMax: Math.max(core.retry_max, core.retry_min),
    spool: core.spool ?? plugin.outbox?.spool ?? true,
    spoolMaxBytes: core.spool_max_bytes,
    spoolMaxAge: core.spool_max_age,
    resendWindow: plugin.resendWindow?.(own) ?? 0,
  };
}

/** The sections of one validated handler section: itself, or one per part when the plugin splits it. */
export function handlerSections(plugin: AnyHandler, parsed: Record<string, unknown>, s: HandlerSettings): HandlerSection[] {
  const { core, own } = splitHandlerSection(parsed);
  const base = {
    key: s.key,
    group: undefined,
    plugin,
    enabled: core.enabled,
    outbox: outboxSettings(plugin, core, own, s),
    config: own,
    fingerprint: s.fingerprint,
  } satisfies HandlerSection;
  const split = plugin.expand?.(own);
  if (!split || split.parts.length <= 1) return [base];
  const choose = split.choose?.bind(split);
  return split.parts.map((part, index) => ({ ...base, key: `${s.key}@${part.label}`, config: part.config as Record<string, unknown>, group: { name: s.key, index, choose } }));
}
