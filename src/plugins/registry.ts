// Knows every plugin by name: the built-ins and those loaded from plugin_paths.
import { RESERVED_KEYS, reservedKeyIn } from './reserved-keys.js';
import type { CollectorDefinition, ConfigSchema, HandlerDefinition, ParserDefinition, PluginDefinition } from '../plugin-api.js';

export type AnyCollector = CollectorDefinition<ConfigSchema, unknown>;
export type AnyHandler = HandlerDefinition<ConfigSchema, unknown>;
export type AnyParser = ParserDefinition;

/** A plugin file that could not be used, and why. */
export interface PluginFailure {
  readonly file: string;
  readonly reason: string;
  /** Where in the file, when known (a syntax error, an exception thrown at load). */
  readonly line?: number | undefined;
  readonly column?: number | undefined;
  /** The plugin names the file defines or seems to (`name: '...'` in its text), to match the sections that use them. */
  readonly names?: readonly string[];
}

/** `file:line:column: reason`, as a failure is printed. */
export function failureText(f: PluginFailure): string {
  return `${positionText(f.file, f.line, f.column)}: ${f.reason}`;
}

/** `the <kind> plugin at <file:line:column> failed to load: <why>`, for a section or a name that wanted it. */
export function failedPluginText(kind: string, f: PluginFailure): string {
  return `the ${kind} plugin at ${positionText(f.file, f.line, f.column)} failed to load: ${f.reason.replace(/^failed to load: /, '')}`;
}

/** `file:line:column`, or as much of it as is known. */
export function positionText(file: string, line: number | undefined, column: number | undefined): string {
  return line === undefined ? file : column === undefined ? `${file}:${line}` : `${file}:${line}:${column}`;
}

export type PluginKind = PluginDefinition['kind'];

const NAME = /^[a-z][a-z0-9_]*$/;

const DEFINE = { collector: 'defineCollector', handler: 'defineHandler', parser: 'defineParser' } as const;

/**
 * Checks that an object from a plugin file has the shape of a plugin; returns what is wrong and
 * how to fix it. `probe` also creates a parser once with its defaults, to check the instance its
 * `create` returns (plugin files only: the built-ins are tested, and `sonde logster` must not pay).
 */
export function pluginShapeProblem(def: unknown, probe = false): string | undefined {
  if (typeof def !== 'object' || def === null) {
    return `the default export is ${def === null ? 'null' : typeof def}, not a plugin: write export default (api) => api.defineCollector({...}) (or defineHandler, defineParser)`;
  }
  const d = def as Record<string, unknown>;
  if (d.kind !== 'collector' && d.kind !== 'handler' && d.kind !== 'parser') {
    return d.kind === undefined
      ? 'the definition has no kind: wrap it in api.defineCollector({...}), api.defineHandler({...}) or api.defineParser({...})'
      : `kind must be "collector", "handler" or "parser" (got ${JSON.stringify(d.kind)}); wrap the definition in api.defineCollector, api.defineHandler or api.defineParser`;
  }
  const kind = d.kind;
  if (d.name === undefined) return `${kind} without a name: add name: 'my_app' (lower case letters, digits and _), the name of its config section`;
  if (typeof d.name !== 'string' || !NAME.test(d.name)) {
    return `name must be lower case letters, digits and _, starting with a letter (got ${JSON.stringify(d.name) ?? String(d.name)}); it is the name of its config section, e.g. name: 'my_app'`;
  }
  const who = `${kind} ${d.name}`;
  if (typeof d.description !== 'string' || d.description.length === 0) return `${who}: description is missing; add one line for "sonde list", e.g. description: 'Open connections of my app.'`;
  let schema: { shape?: unknown; safeParse?: unknown } | undefined;
  try {
    // A schema given as a function is built here, on this first read.
    schema = d.schema as typeof schema;
  } catch (err) {
    return `${who}: building its schema failed: ${err instanceof Error ? err.message : String(err)}`;
  }
  if (typeof schema !== 'object' || schema === null || typeof schema.safeParse !== 'function' || typeof schema.shape !== 'object' || schema.shape === null) {
    return `${who}: schema must be a zod object, e.g. schema: api.z.object({}) for no options`;
  }
  const reserved = reservedKeyIn(kind, schema.shape as Record<string, unknown>);
  if (reserved) {
    const where = kind === 'parser' ? 'every entry of the logs collector\'s files' : `every ${kind} section`;
    return `${who}: its schema declares the option "${reserved}", a key ${where} has for sonde itself (${RESERVED_KEYS[kind].join(', ')}), so the plugin would never see its value; rename the option, e.g. "${d.name}_${reserved}"`;
  }
  const fn = (key: string, call: string): string | undefined =>
    typeof d[key] === 'function' ? undefined : `${who}: ${call} is ${d[key] === undefined ? 'missing' : `not a function (got ${typeof d[key]})`}; see ${DEFINE[kind]} in the plugin docs`;
  for (const optional of kind === 'parser' ? [] : ['init', 'close']) {
    if (d[optional] !== undefined && typeof d[optional] !== 'function') return fn(optional, `${optional}(ctx)`);
  }
  if (kind === 'collector') return fn('collect', 'collect(ctx)');
  if (kind === 'handler') return fn('send', 'send(batch, ctx)');
  const create = fn('create', 'create(options)');
  if (create) return create;
  if (!Array.isArray(d.aliases) || !d.aliases.every((a) => typeof a === 'string')) {
    return `${who}: aliases must be a list of names (it may be empty: aliases: []); api.defineParser fills in [] when it is left out`;
  }
  const shape = schema.shape as Record<string, unknown>;
  if (d.flags !== undefined) {
    if (!Array.isArray(d.flags)) return `${who}: flags must be a list of { long: '--name', short: '-n', key: 'option' }`;
    for (const f of d.flags as unknown[]) {
      const flag = (typeof f === 'object' && f !== null ? f : {}) as Record<string, unknown>;
      if (typeof flag.long !== 'string' || !flag.long.startsWith('--') || (flag.short !== undefined && (typeof flag.short !== 'string' || !/^-[^-]$/.test(flag.short)))) {
        return `${who}: flag ${JSON.stringify(f)} must be { long: '--name', short: '-n' (optional), key: 'option' }`;
      }
      if (typeof flag.key !== 'string' || !Object.hasOwn(shape, flag.key)) return `${who}: flag ${flag.long} sets "${String(flag.key)}", which its schema does not declare; set key to one of: ${Object.keys(shape).join(', ') || '(the schema has no options)'}`;
    }
  }
  if (probe) return instanceProblem(who, d.create as (o: unknown) => unknown, schema as { safeParse(v: unknown): { success: boolean; data?: unknown } });
  return undefined;
}

/** Creates the parser once with its default options (when it has defaults for all) and checks what create returned. */
function instanceProblem(who: string, create: (o: unknown) => unknown, schema: { safeParse(v: unknown): { success: boolean; data?: unknown } }): string | undefined {
  const defaults = schema.safeParse({});
  // Options without defaults (a pattern to match): the instance is checked when it is created.
  if (!defaults.success) return undefined;
  let instance: unknown;
  try {
    instance = create(defaults.data);
  } catch {
    // It may need what only a real run has; an error then is reported where it is created for use.
    return undefined;
  }
  return parserInstanceProblem(who, instance);
}

/** What is wrong with the object a parser's create returned, if anything. */
export function parserInstanceProblem(who: string, instance: unknown): string | undefined {
  if (instance instanceof Promise) return `${who}: create(options) returned a promise; it must return the parser ({ parseLine(line), report(seconds) }) at once`;
  if (typeof instance !== 'object' || instance === null) return `${who}: create(options) returned ${instance === null ? 'null' : typeof instance}; it must return { parseLine(line), report(seconds) }`;
  const i = instance as Record<string, unknown>;
  for (const [key, call] of [['parseLine', 'parseLine(line)'], ['report', 'report(durationSeconds)']] as const) {
    if (typeof i[key] !== 'function') return `${who}: the object create(options) returns has no ${call}; add it (report returns the figures, e.g. [{ name: 'lines', value: n }])`;
  }
  if (i.parseBytes !== undefined && typeof i.parseBytes !== 'function') return `${who}: parseBytes is not a function; remove it or make it parseBytes(buf, start, end, lastNeedle)`;
  if (i.needles !== undefined && (!Array.isArray(i.needles) || !i.needles.every((n) => typeof n === 'string' && n.length > 0))) {
    return `${who}: needles must be a list of non-empty strings (a line matters only when it contains one)`;
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

  /**
   * Adds a plugin; returns a reason when it cannot be added. A built-in's shape is not checked
   * here (the tests check every one): that would build its schema, which a run that does not
   * configure it never needs (see SchemaSource).
   */
  add(def: PluginDefinition, source: string): string | undefined {
    const problem = source === 'built-in' ? undefined : pluginShapeProblem(def, true);
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
      return base.replace(/\.(m?js)$/, '') === name || (f.names?.includes(name) ?? false);
    });
  }
}
