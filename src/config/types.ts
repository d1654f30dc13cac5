// The config the agent runs from, once validated: what the runtime, the delivery and the CLI read.
// Validation (validate.ts) produces it; nothing here depends on how.
import type { Duration } from '../model/duration.js';
import type { AnyCollector, AnyHandler } from '../plugins/registry.js';
import type { GlobalConfig } from './global-schema.js';

export interface CollectorSection {
  /** The section's name under `collectors:`, also the name used in logs and self-metrics. */
  readonly key: string;
  readonly plugin: AnyCollector;
  readonly enabled: boolean;
  readonly interval: Duration;
  readonly timeout: Duration;
  /** Metric path below the host. */
  readonly path: string;
  /** The plugin's own options, validated, defaults applied. */
  readonly config: Record<string, unknown>;
  /** New metric names the collector may make (its max_names, else max_names_per_collector). */
  readonly maxNames: number | undefined;
  /** Changes when anything in the section changes; SIGHUP restarts only changed collectors. */
  readonly fingerprint: string;
}

export interface OutboxSettings {
  readonly batchSize: number;
  readonly flushInterval: Duration;
  readonly queueSize: number;
  readonly sendTimeout: Duration;
  readonly retryMin: Duration;
  readonly retryMax: Duration;
  readonly spool: boolean;
  readonly spoolMaxBytes: number;
  readonly spoolMaxAge: Duration;
  /** After a failed send, what was accepted this long before it is sent again (0: never). */
  readonly resendWindow: Duration;
}

export interface HandlerSection {
  /** The section name, or `<section>@<part>` for a part of a split section. */
  readonly key: string;
  /** Set for the parts of a split section: which part this is, and how samples are chosen. */
  readonly group: { readonly name: string; readonly index: number; readonly choose?: (path: string) => number } | undefined;
  readonly plugin: AnyHandler;
  readonly enabled: boolean;
  readonly outbox: OutboxSettings;
  readonly config: Record<string, unknown>;
  readonly fingerprint: string;
}

export interface AgentConfig extends Omit<GlobalConfig, 'collectors' | 'handlers'> {
  readonly collectors: readonly CollectorSection[];
  readonly handlers: readonly HandlerSection[];
  readonly files: readonly string[];
  /** Problems that do not stop the agent (a section whose plugin failed to load). */
  readonly warnings: readonly string[];
  /** Those warnings that are about a section whose plugin file failed to load: check-config refuses them. */
  readonly unloaded: readonly string[];
}
