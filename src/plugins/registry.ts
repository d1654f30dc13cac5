// Knows every plugin by name: the built-ins and those loaded from plugin_paths.
import type { CollectorDefinition, ConfigSchema, HandlerDefinition, ParserDefinition, PluginDefinition } from '../plugin-api.js';

export type AnyCollector = CollectorDefinition<ConfigSchema, unknown>;
export type AnyHandler = HandlerDefinition<ConfigSchema, unknown>;
export type AnyParser = ParserDefinition;

/** A plugin file that could not be used, and why. */
export interface PluginFailure {
  readonly file: string;
  readonly reason: string;
}

export type PluginKind = PluginDefinition['kind'];

const NAME = /^[a-z][a-z0-9_]*$/;

/** Checks that an object from a plugin file has the shape of a plugin; returns what is wrong. */
export function pluginShapeProblem(def: unknown): string | undefined {
  if (typeof def !== 'object' || def === null) return 'the default export is not a plugin object (use defineCollector, defineHandler or defineParser)';
  const d = def as Record<string, unknown>;
  if (d.kind !== 'collector' && d.kind !== 'handler' && d.kind !== 'parser') return 'kind must be "collector", "handler" or "parser"';
  if (typeof d.name !== 'string' || !NAME.test(d.name)) return `name must be lower case letters, digits and _ (got ${JSON.stringify(d.name)})`;
  if (typeof d.description !== 'string' || d.description.length === 0) return `${d.kind} ${d.name}: description is missing`;
  const schema = d.schema as { shape?: unknown; safeParse?: unknown } | undefined;
  if (typeof schema !== 'object' || schema === null || typeof schema.safeParse !== 'function' || typeof schema.shape !== 'object') {
    return `${d.kind} ${d.name}: schema must be a zod object (api.z.object({...}))`;
  }
  if (d.kind === 'collector' && typeof d.collect !== 'function') return `collector ${d.name}: collect(ctx) is missing`;
  if (d.kind === 'handler' && typeof d.send !== 'function') return `handler ${d.name}: send(batch, ctx) is missing`;
  if (d.kind === 'parser') {
    if (typeof d.create !== 'function') return `parser ${d.name}: create(options) is missing`;
    if (!Array.isArray(d.aliases)) return `parser ${d.name}: aliases must be a list (it may be empty)`;
  }
  return undefined;
}

export class Registry {
  readonly collectors = new Map<string, AnyCollector>();
  readonly handlers = new Map<string, AnyHandler>();
  /** By name and by every alias. */
  readonly parsers = new Map<string, AnyParser>();
  readonly failures: PluginFailure[] = [];
  /** Where each plugin came from: "built-in" or a file path. */
  readonly sources = new Map<PluginDefinition, string>();

  /** Adds a plugin; returns a reason when it cannot be added. */
  add(def: PluginDefinition, source: string): string | undefined {
    const problem = pluginShapeProblem(def);
    if (problem) return problem;
    const taken = (existing: PluginDefinition | undefined): string | undefined =>
      existing ? `a ${def.kind} named "${def.name}" already exists (${this.sources.get(existing)}); rename this one` : undefined;
    switch (def.kind) {
      case 'collector': {
        const t = taken(this.collectors.get(def.name));
        if (t) return t;
        this.collectors.set(def.name, def);
        break;
      }
      case 'handler': {
        const t = taken(this.handlers.get(def.name));
        if (t) return t;
        this.handlers.set(def.name, def);
        break;
      }
      case 'parser': {
        for (const n of [def.name, ...def.aliases]) {
          const t = taken(this.parsers.get(n));
          if (t) return t;
        }
        for (const n of [def.name, ...def.aliases]) this.parsers.set(n, def);
        break;
      }
    }
    this.sources.set(def, source);
    return undefined;
  }

  /** Distinct parsers (the map also holds them under their aliases). */
  parserList(): AnyParser[] {
    return [...new Set(this.parsers.values())];
  }

  /** True when a plugin file named like `name` failed to load, so its section is not a typo. */
  failedToLoad(name: string): PluginFailure | undefined {
    return this.failures.find((f) => {
      const base = f.file.split('/').pop() ?? '';
      return base.replace(/\.(m?js)$/, '') === name;
    });
  }
}
