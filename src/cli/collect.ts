// `sonde collect <name|file>`: runs one collector a few times and prints its samples as Graphite
// lines, for plugin authors and for checking a collector on a host.
import path from 'node:path';
import { z } from 'zod';
import { collectorSchema, splitSection, standaloneSection } from '../config/collector-section.js';
import type { GlobalConfig } from '../config/global-schema.js';
import type { CollectorSection } from '../config/types.js';
import type { Logger } from '../logging/logger.js';
import { plaintextLine } from '../model/value-format.js';
import type { ParserDefinition } from '../plugin-api.js';
import type { PluginFile } from '../plugins/builtin.js';
import { importPluginFile, PluginLoadError } from '../plugins/loader.js';
import { failedPluginText, pluginShapeProblem, type AnyCollector, type Registry } from '../plugins/registry.js';
import { closest } from '../schema/introspect.js';
import { coerceText } from '../schema/coerce.js';
import { Pipeline } from '../runtime/pipeline.js';
import { didYouMean } from '../config/suggest.js';

export interface CollectOptions {
  readonly target: string;
  readonly count: number;
  readonly intervalMs: number;
  /** The configured section, when a config file was given and has one. */
  readonly section: CollectorSection | undefined;
  /** Parsers by name and alias (the logs collector). */
  readonly parsers?: ReadonlyMap<string, ParserDefinition>;
  readonly global: Pick<GlobalConfig, 'path_prefix' | 'path_suffix' | 'hostname' | 'hostname_method' | 'proc_root' | 'sys_root'> & Partial<Pick<GlobalConfig, 'max_names_per_collector'>>;
}

export function isFile(target: string): boolean {
  return target.includes('/') || target.endsWith('.js') || target.endsWith('.mjs');
}

/** A command line the command cannot run: exit 64, with this message. */
export class CollectUsageError extends Error {}

/** A name that is no collector: the command line is wrong (exit 64), not the run. */
export class UnknownCollectorError extends CollectUsageError {}

/** Imports the plugin file `sonde collect <file>` names; throws a message with its file:line:column. */
export async function importTarget(target: string): Promise<PluginFile> {
  const file = path.resolve(target);
  try {
    return { file, defs: await importPluginFile(file) };
  } catch (err) {
    const where = err instanceof PluginLoadError ? err.where : target;
    throw new Error(`cannot load ${where}: ${(err as Error).message}`);
  }
}

/** The collector to run: in the file given (already in the registry), or by name. */
export function findCollector(target: string, registry: Registry, file?: PluginFile): AnyCollector {
  if (file) {
    const c = file.defs.find((d) => typeof d === 'object' && d !== null && d.kind === 'collector');
    if (!c) throw new Error(`${target} exports no collector (write export default (api) => api.defineCollector({...}))`);
    const problem = pluginShapeProblem(c);
    if (problem) throw new Error(`${target}: ${problem}`);
    if (registry.sources.get(c) !== file.file) {
      const failure = registry.failures.find((f) => f.file === file.file);
      throw new Error(`${target}: ${failure?.reason ?? `collector ${c.name} could not be added`}`);
    }
    return c as AnyCollector;
  }
  const c = registry.collectors.get(target);
  if (c) return c;
  const failed = registry.failedToLoad(target);
  if (failed) throw new Error(failedPluginText('collector', failed));
  const names = [...registry.collectors.keys()];
  throw new UnknownCollectorError(`no collector named "${target}"${didYouMean(target, names, 'collector')} (available: ${names.join(', ')}; a plugin file is named by its path, e.g. ./my-collector.mjs)`);
}

/**
 * The section `sonde collect` runs: the config's section for the collector (its `collectors.<name>`,
 * or one whose type is it) when there is one, else the defaults, then each `--set key=value`,
 * typed by the option's schema. A key the collector does not have, or a value its schema refuses,
 * throws a CollectUsageError naming the key.
 */
export function collectSection(plugin: AnyCollector, configured: CollectorSection | undefined, sets: readonly string[], intervalMs: number): CollectorSection {
  const schema = collectorSchema(plugin);
  const shape = schema.shape as Record<string, z.ZodType>;
  // Keys come from the command line: `__proto__` or `toString` must be unknown options, not Object's.
  const options: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const s of sets) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new CollectUsageError(`--set ${JSON.stringify(s)} is not key=value (e.g. --set count=3)`);
    const key = s.slice(0, eq);
    const option = Object.hasOwn(shape, key) ? shape[key] : undefined;
    if (!option || key === 'type') {
      const keys = Object.keys(plugin.schema.shape);
      const hint = closest(key, Object.keys(shape).filter((k) => k !== 'type' && k !== key));
      throw new CollectUsageError(
        `--set ${key}=...: collector ${plugin.name} has no option "${key}"${hint ? `; did you mean "${hint}"?` : ''} (its options: ${keys.join(', ') || 'none'}; and every collector's interval, timeout, path, max_names)`,
      );
    }
    options[key] = coerceText(option, s.slice(eq + 1));
  }
  const refused = (err: unknown): CollectUsageError => {
    const issues = err instanceof z.ZodError ? err.issues : [];
    if (issues.length === 0) return new CollectUsageError(`collector ${plugin.name}: ${(err as Error).message}`);
    const said = issues.map((i) => {
      const key = String(i.path[0] ?? '');
      const below = i.path.length > 1 ? ` (at ${i.path.join('.')})` : '';
      const set = sets.findLast((x) => x.startsWith(`${key}=`));
      if (set !== undefined) return `--set ${set}: ${i.message}${below}`;
      return `collector ${plugin.name}, option ${i.path.join('.') || '(all)'}: ${i.message}; give it in the config's section or with --set ${key || 'key'}=VALUE`;
    });
    return new CollectUsageError(said.join('; '));
  };
  if (!configured) {
    try {
      return standaloneSection(plugin, { ...options }, { interval: intervalMs });
    } catch (err) {
      throw refused(err);
    }
  }
  if (sets.length === 0) return configured;
  // The configured section is validated already: each --set is validated at its own key.
  const parsed = z.object(Object.fromEntries(Object.keys(options).map((k) => [k, shape[k]!]))).safeParse({ ...options });
  if (!parsed.success) throw refused(parsed.error);
  const { core, own } = splitSection({ enabled: true, ...parsed.data });
  return {
    ...configured,
    interval: core.interval ?? configured.interval,
    timeout: core.timeout ?? (core.interval !== undefined ? Math.min(configured.timeout, core.interval) : configured.timeout),
    path: core.path ?? configured.path,
    maxNames: core.maxNames ?? configured.maxNames,
    config: { ...configured.config, ...own },
  };
}

export async function collectOne(plugin: AnyCollector, opts: CollectOptions, log: Logger, write: (s: string) => void): Promise<number> {
  let section = opts.section;
  if (!section || section.plugin !== plugin) section = standaloneSection(plugin, {}, { interval: opts.intervalMs });
  // A person watches a preview: every run says what is wrong with it, nothing is held back.
  const pipeline = new Pipeline(log, { throttleMs: 0 });
  pipeline.parsers = opts.parsers ?? new Map();
  await pipeline.setNaming(opts.global);
  // A preview: offsets and other collector state stay in memory.
  const runner = pipeline.runner(section, opts.global, { persistent: false });
  let status = 0;
  for (let i = 0; i < opts.count; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, opts.intervalMs));
    // Raced against the timeout: a collect() that never settles must not leave the command
    // waiting on nothing (node would then exit 0, as if the run had worked).
    const res = await runner.runWithin(Date.now(), section.timeout);
    if (res === 'timeout') {
      const left = opts.count - i - 1;
      log.error(
        `run ${i + 1}: collector ${section.key} did not finish within its timeout of ${section.timeout} ms (its collect() has not returned; it must honour ctx.signal); nothing of this run is printed${left > 0 ? `, and the ${left} run(s) left are not started beside it` : ''}`,
      );
      status = 1;
      break;
    }
    if (res.error) {
      log.error({ err: res.error }, `run ${i + 1}: ${res.error.message}`);
      status = 1;
    }
    let out = '';
    for (const s of res.samples) {
      out += plaintextLine(pipeline.paths.render(s.name), s.value, s.precision, s.timestamp);
    }
    if (res.samples.length === 0 && i === 0) log.info(`run 1 emitted nothing${runner.rates.size > 0 ? ' (rates need a second run)' : ''}`);
    write(out);
  }
  // Bounded: a plugin stuck in collect() may be stuck in close() too.
  await within(runner.close().catch(() => undefined), section.timeout);
  return status;
}

/** Waits for `p`, at most `ms`; the referenced timer keeps node running meanwhile (a pending promise does not). */
async function within(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}
